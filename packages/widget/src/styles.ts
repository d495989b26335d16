/** The widget's CSS, scoped by its shadow root; colours meet WCAG AA contrast on white. */
export const CSS = `
:host { display: block; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933; }
* { box-sizing: border-box; }
.sw { border: 1px solid #d2d6dc; border-radius: 10px; padding: 16px; background: #fff; max-width: 960px; }
.sw-head { display: flex; align-items: center; gap: 8px; }
.sw-head h2 { flex: 1; margin: 0; font-size: 1.05em; text-align: center; }
.sw-zone { margin: 4px 0 12px; color: #52606d; font-size: .85em; text-align: center; }
button { font: inherit; border-radius: 6px; border: 1px solid #9aa5b1; background: #fff; color: #1f2933; padding: 6px 10px; cursor: pointer; }
/* Not on the chosen slot: its white text needs its dark background under the pointer too. */
button:hover:not([disabled]):not([aria-disabled="true"]):not([aria-pressed="true"]) { background: #f0f4f8; }
button:focus-visible, input:focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
button[disabled] { opacity: .45; cursor: not-allowed; }
.sw-days { display: grid; grid-template-columns: repeat(auto-fit, minmax(118px, 1fr)); gap: 10px; }
.sw-day h3 { margin: 0 0 6px; font-size: .9em; color: #323f4b; }
.sw-day ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; }
.sw-day p { margin: 0; color: #616e7c; font-size: .85em; }
.sw-slot { width: 100%; display: flex; justify-content: space-between; gap: 4px; border-color: #2563eb; color: #1d4ed8; }
.sw-slot { align-items: baseline; flex-wrap: wrap; text-align: left; }
.sw-slot small { color: #52606d; font-size: .78em; }
.sw-slot[aria-pressed="true"] { background: #1d4ed8; color: #fff; }
.sw-slot[aria-pressed="true"] small { color: #e0e7ff; }
.sw-slot.full { border-color: #cbd2d9; color: #616e7c; background: #f5f7fa; cursor: not-allowed; }
.sw-slot.full span { text-decoration: line-through; }
.sw-slot.full small { color: #9b1c1c; font-weight: 600; }
.sw-panel { margin-top: 14px; padding: 12px; border-radius: 8px; background: #f5f7fa; display: grid; gap: 8px; }
.sw-panel[hidden] { display: none; }
.sw-panel p { margin: 0; }
label { display: grid; gap: 2px; font-size: .9em; }
input { font: inherit; padding: 6px 8px; border: 1px solid #9aa5b1; border-radius: 6px; }
input[aria-invalid="true"] { border-color: #b91c1c; }
.sw-actions { display: flex; gap: 8px; flex-wrap: wrap; }
.sw-primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
.sw-primary:hover:not([disabled]) { background: #1e40af !important; }
.sw-status { min-height: 1.4em; margin: 12px 0 0; font-weight: 500; }
.sw-status.error { color: #b91c1c; }
.sw-status.ok { color: #166534; }
`;
