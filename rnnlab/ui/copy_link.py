"""A link shown as code with a Copy button, light enough for the first page view.

st.code would do it, but its first use loads Streamlit's syntax highlighter: 0.4-0.5 s of the browser's main
thread on a cold page load (CPU profile of the Train page), for one line of plain text. Its copy button also
needs the Clipboard API, which browsers give only to https and localhost pages; a class server reached at
http://<address> falls back here to selecting the text and copying it."""

from __future__ import annotations

import streamlit as st

_JS = """
export default function ({parentElement, data}) {
  let box = parentElement.querySelector('.rnnlab-copy-link');
  if (!box) {
    box = document.createElement('div');
    box.className = 'rnnlab-copy-link';
    box.innerHTML = '<code></code><button type="button">Copy</button>';
    parentElement.appendChild(box);
    const button = box.querySelector('button');
    button.addEventListener('click', async () => {
      const text = box.querySelector('code').textContent;
      let copied = false;
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch (e) {
        // Plain http: no Clipboard API; a selected textarea and execCommand still copy.
        const area = document.createElement('textarea');
        area.value = text;
        area.setAttribute('readonly', '');
        area.style.position = 'fixed';
        area.style.opacity = '0';
        document.body.appendChild(area);
        area.select();
        try { copied = document.execCommand('copy'); } catch (e2) { copied = false; }
        area.remove();
      }
      button.textContent = copied ? 'Copied' : 'Select the link and copy it';
      setTimeout(() => { button.textContent = 'Copy'; }, 2000);
    });
  }
  box.querySelector('code').textContent = data.link;
}
"""

_CSS = """
.rnnlab-copy-link {display: flex; flex-direction: column; gap: 0.4rem; align-items: flex-start;}
.rnnlab-copy-link code {font-family: "Source Code Pro", monospace; font-size: 0.8rem; word-break: break-all;
                        background: rgba(128, 128, 128, 0.1); border-radius: 0.4rem; padding: 0.4rem 0.5rem;
                        user-select: all; width: 100%; box-sizing: border-box;}
.rnnlab-copy-link button {font: inherit; font-size: 0.875rem; padding: 0.2rem 0.75rem; cursor: pointer;
                          border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; background: white;}
.rnnlab-copy-link button:hover {border-color: #ff4b4b; color: #ff4b4b;}
"""

_component = st.components.v2.component("rnnlab_copy_link", js=_JS, css=_CSS, isolate_styles=False)


def copy_link(link: str, *, key: str) -> None:
    """Show `link` as selectable code with a Copy button."""
    _component(key=key, data={"link": link})
