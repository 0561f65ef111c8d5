import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ROOT } from "../servers/shared/config.ts";
import { brokerTable } from "./broker-table.ts";

test("the README's broker permission table is the one permissions.ts gives", () => {
  expect(readFileSync(`${ROOT}/README.md`, "utf8")).toContain(brokerTable());
});
