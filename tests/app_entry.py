"""dashboard.py (the Streamlit script that app.py serves) as AppTest runs it. AppTest loses every rerun
after the first when the main script sits beside a `pages/` folder (it mistakes the app for an old-style
pages-folder app), so the tests start the real dashboard.py from here, a folder without one."""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parent.parent / "dashboard.py"), run_name="__main__")
