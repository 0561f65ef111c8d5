/**
 * @module negotiate
 * What kind of client sent a request: a browser's form post (answered with
 * pages) or an API client (answered with JSON).
 */
export const isForm = (req: Request) => /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(req.headers.get("content-type") ?? "");

export const wantsJson = (req: Request) => {
  const a = req.headers.get("accept") ?? "";
  return a.includes("application/json") && !a.includes("text/html");
};
