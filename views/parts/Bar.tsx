/** A labelled progress bar: `<progress>` plus the same numbers as text. */
export interface BarProps {
  /** accessible name, also shown above the bar */
  label: string;
  /** null: indeterminate (size unknown) */
  value: number | null;
  max: number;
  /** the numbers as words, e.g. "1.2 MB of 3.4 MB" */
  text: string;
  tone?: "active" | "done" | "failed" | "idle";
  /** show the label to screen readers only (the row already shows the name) */
  hideLabel?: boolean;
}

export function Bar(p: BarProps) {
  return (
    <div class={`bar tone-${p.tone ?? "active"}`}>
      <div class="bar-label">
        <span class={p.hideLabel ? "sr-only" : "bar-name"}>{p.label}</span>
        <span class="bar-text">{p.text}</span>
      </div>
      {p.value === null ? (
        <progress max={p.max} aria-label={p.label} />
      ) : (
        <progress max={p.max} value={Math.min(p.value, p.max)} aria-label={p.label} aria-valuetext={p.text} />
      )}
    </div>
  );
}
