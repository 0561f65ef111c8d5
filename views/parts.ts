/**
 * @module parts
 * The names of the job page's live parts. Each is an element's `sse-swap`
 * target on the page and the name of the SSE event that replaces its content,
 * so the bridge and the page cannot disagree.
 */
export const partName = {
  file: (index: number) => `file-${index}`,
  overall: "overall",
  compress: "compress",
  clock: "clock",
  link: "link",
  /** the last event of a stream: the page closes its connection on it */
  done: "done",
} as const;
