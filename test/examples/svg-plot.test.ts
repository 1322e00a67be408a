import { describe, expect, test } from "vitest";
import { escapeXml, lineChart, niceTicks } from "../../examples/svg-plot.js";

describe("niceTicks", () => {
  test("covers the range with steps of 1, 2 or 5 times a power of ten", () => {
    expect(niceTicks(0, 0.93, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 4, 8)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
    expect(niceTicks(0.04, 2.31, 5)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
  });

  test("widens an empty range around its value", () => {
    expect(niceTicks(1, 1, 4)).toEqual([0, 0.5, 1, 1.5, 2]);
  });
});

describe("lineChart", () => {
  const svg = lineChart({
    title: "Loss & <accuracy>",
    xLabel: "epoch",
    leftLabel: "loss",
    rightLabel: "accuracy",
    series: [
      { name: "training loss", points: [[0.1, 2.3], [0.5, 0.9], [1, 0.4]], color: "#d62728" },
      { name: "test accuracy", points: [[1, 0.95], [2, 0.97]], color: "#2ca02c", axis: "right", markers: true },
    ],
  });

  test("is one well-formed svg element: every tag closed, in order", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    const stack: string[] = [];
    for (const [, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
      if (closing === "/") expect(stack.pop()).toBe(name);
      else if (selfClosing !== "/") stack.push(name ?? "");
    }
    expect(stack).toEqual([]);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  test("draws one polyline per series, with its points, and markers where asked", () => {
    const lines = [...svg.matchAll(/<polyline class="series" data-name="([^"]*)"[^>]*points="([^"]*)"/g)];
    expect(lines.map((m) => m[1])).toEqual(["training loss", "test accuracy"]);
    expect(lines.map((m) => (m[2] ?? "").split(" ").length)).toEqual([3, 2]);
    expect(svg.match(/<circle /g)?.length).toBe(2);
  });

  test("has a legend naming each series, axis labels and escaped text", () => {
    expect(svg).toContain(">training loss</text>");
    expect(svg).toContain(">test accuracy</text>");
    expect(svg).toContain(">epoch</text>");
    expect(svg).toContain("Loss &amp; &lt;accuracy&gt;");
    expect(svg).not.toContain("<accuracy>");
  });

  test("puts a larger value higher on the plot", () => {
    const points = /data-name="training loss"[^>]*points="([^"]*)"/.exec(svg)?.[1]?.split(" ").map((p) => Number(p.split(",")[1]));
    expect(points?.[0]).toBeLessThan(points?.[2] ?? 0); // 2.3 is above 0.4: a smaller y coordinate
  });

  test("escapes every markup character", () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});

describe("extreme inputs", () => {
  test("ticks stop where a step cannot move a double, and for non-finite ends", () => {
    expect(niceTicks(1e16, 1e16 + 4, 5)).toEqual([1e16, 1e16 + 4]);
    expect(niceTicks(Number.NaN, 1)).toEqual([]);
    expect(niceTicks(0, Infinity)).toEqual([]);
    expect(niceTicks(0, 1e6, 5).length).toBeLessThanOrEqual(101);
  });

  test("a long series (200,000 points) is drawn without exhausting the stack", () => {
    const points = Array.from({ length: 200_000 }, (_, i): [number, number] => [i, Math.sin(i)]);
    const svg = lineChart({ title: "long", xLabel: "step", leftLabel: "loss", series: [{ name: "loss", points, color: "#d62728" }] });
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  });

  test("control characters, which XML forbids, are dropped from text", () => {
    expect(escapeXml("a\u0001b\u001fc\td\ne")).toBe("abc\td\ne");
  });
});
