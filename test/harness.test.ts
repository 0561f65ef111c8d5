/** The harness itself: the real stack comes up healthy and answers on its ports. */
import { expect, test } from "bun:test";
import { useStack } from "./stack.ts";

test("the test stack is up: web healthz 200, nginx 404 elsewhere", async () => {
  const s = await useStack();
  expect((await fetch(`${s.web}/healthz`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${s.config.NGINX_PORT}/`)).status).toBe(404);
}, 120_000);
