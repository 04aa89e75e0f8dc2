"""The live trace page's static files (HTML, JS modules, CSS), served by server/routes/trace_page.py."""
