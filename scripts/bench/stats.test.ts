import { describe, expect, test } from "bun:test";
import { mbPerSec, median, percentile, ratio, relDiff, summarize } from "./stats.ts";

describe("stats", () => {
  test("median of odd and even counts, order-independent", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  test("summary gives n, median, min and max without reordering the input", () => {
    const xs = [30, 10, 20, 50, 40];
    expect(summarize(xs)).toEqual({ n: 5, median: 30, min: 10, max: 50 });
    expect(xs).toEqual([30, 10, 20, 50, 40]);
  });

  test("nearest-rank percentiles", () => {
    const xs = Array.from({ length: 50 }, (_, i) => 50 - i); // 1..50 shuffled by reversal
    expect(percentile(xs, 50)).toBe(25);
    expect(percentile(xs, 95)).toBe(48);
    expect(percentile(xs, 100)).toBe(50);
    expect(percentile([3, 1, 2], 1)).toBe(1);
    expect(percentile([9], 95)).toBe(9);
  });

  test("empty input and bad percentiles are errors, not NaN", () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  test("ratios, relative differences and throughput", () => {
    expect(ratio(3, 4)).toBe(0.75);
    expect(ratio(1, 0)).toBeNaN();
    expect(relDiff(105, 100)).toBeCloseTo(0.05);
    expect(mbPerSec(50e6, 500)).toBe(100);
    expect(mbPerSec(1, 0)).toBeNaN();
  });
});
