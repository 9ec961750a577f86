"""The Playground tab's CSS (passed to launch() by app.py)."""

CSS = """
#lu-columns { gap: 12px; align-items: stretch; }
.lu-col { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px !important; background: var(--background-fill-secondary); }
.lu-head .lu-title { font-weight: 650; font-size: 1.05em; margin-bottom: 2px; }
.lu-head .lu-facts { font-size: 0.82em; color: var(--body-text-color-subdued); }
.lu-head .lu-facts code { font-size: 0.95em; padding: 0 3px; }
.lu-head .lu-desc { font-size: 0.85em; margin-top: 3px; }
.lu-head .lu-avail { font-size: 0.8em; margin-top: 4px; color: #b45309; }
.lu-badge { display: inline-block; font-size: 0.72em; font-weight: 600; padding: 1px 7px; border-radius: 999px; margin-left: 4px; vertical-align: middle; }
.lu-badge-demo { background: #e0e7ff; color: #3730a3; }
.lu-badge-remote { background: #dcfce7; color: #166534; }
.lu-badge-ok { background: #dcfce7; color: #166534; margin-left: 0; }
.lu-badge-warn { background: #fef3c7; color: #92400e; margin-left: 0; }
.lu-badge-row { font-size: 0.85em; align-self: center; }
.lu-muted { color: var(--body-text-color-subdued); font-size: 0.9em; }
.lu-metrics { font-size: 0.82em; min-height: 1.6em; display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.lu-chip { background: var(--background-fill-primary); border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 1px 6px; white-space: nowrap; }
.lu-stop-eos, .lu-stop-stop_string { border-color: #16a34a; }
.lu-stop-max_tokens { border-color: #ca8a04; }
.lu-stop-cancelled { border-color: #9ca3af; }
.lu-live { border-color: #6366f1; }
.lu-seed { color: var(--body-text-color-subdued); }
.lu-status { white-space: nowrap; }
.lu-progress { width: 100%; height: 6px; background: var(--border-color-primary); border-radius: 3px; overflow: hidden; }
.lu-progress > div { height: 100%; background: #6366f1; transition: width 0.2s; }
.lu-notice { width: 100%; color: #1d4ed8; }
.lu-error { color: #b91c1c; font-size: 0.9em; }
.lu-statusline { font-size: 0.85em; color: var(--body-text-color-subdued); padding: 2px 4px; }
.lu-statusline.lu-warn { color: #92400e; }
.lu-note { color: var(--body-text-color); font-weight: 600; }
.lu-raw pre { max-height: 260px; overflow: auto; font-size: 0.8em; white-space: pre-wrap; word-break: break-all; }
"""
