import { expect, test } from "bun:test";
import { clientOf } from "./client.ts";

const none = new Set<string>();
const proxies = new Set(["10.0.0.1", "10.0.0.2"]);

test("without trusted proxies the client is the socket's address, whatever X-Forwarded-For claims", () => {
  expect(clientOf("203.0.113.7", undefined, none)).toBe("203.0.113.7");
  expect(clientOf("203.0.113.7", "198.51.100.1", none)).toBe("203.0.113.7");
  expect(clientOf("::ffff:203.0.113.7", undefined, none)).toBe("203.0.113.7");
});

test("behind trusted proxies: the right-most entry that is not one of them; what the client wrote further left is ignored", () => {
  expect(clientOf("10.0.0.1", "198.51.100.1", proxies)).toBe("198.51.100.1");
  expect(clientOf("10.0.0.1", "6.6.6.6, 198.51.100.1", proxies)).toBe("198.51.100.1");
  expect(clientOf("10.0.0.1", "6.6.6.6, 198.51.100.1, 10.0.0.2", proxies)).toBe("198.51.100.1");
  expect(clientOf("10.0.0.1", undefined, proxies)).toBe("10.0.0.1"); // the proxy itself (a health check)
  expect(clientOf("10.0.0.1", "10.0.0.2", proxies)).toBe("10.0.0.1");
  expect(clientOf("203.0.113.7", "198.51.100.1", proxies)).toBe("203.0.113.7"); // not from a proxy: not believed
});
