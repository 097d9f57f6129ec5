"""The web app's tabs, one module each (`<tab>_tab.py`: its views and its `build(page, language)`),
and what they share (`common`). `plugin.doors.webapp` puts them on one page and serves it."""
