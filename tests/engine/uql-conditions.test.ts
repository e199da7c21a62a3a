import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/core/errors.ts";
import { rootRef, type Detections } from "../../src/engine/detections.ts";
import { evaluateStatement, runOperations } from "../../src/engine/uql/index.ts";

/** Statements and operators of the operations language, and the errors a wrong kind of data gives. */

const image = rootRef("frame-1", 640, 480);
const detections = (n: number): Detections => ({
  kind: "detections",
  image,
  items: Array.from({ length: n }, (_, i) => ({ x1: 10 * i, y1: 0, x2: 10 * i + 8, y2: 8, confidence: 0.5, classId: 0, className: "person", detectionId: `d${i}`, parentId: image.id })),
});

const value = (v: unknown) => ({ type: "StaticOperand", value: v });
const param = (name: string, operations: unknown[] = []) => ({ type: "DynamicOperand", operand_name: name, operations });
const binary = (a: unknown, comparator: string, b: unknown, negate?: boolean) => ({ type: "BinaryStatement", left_operand: value(a), comparator: { type: comparator }, right_operand: value(b), ...(negate === undefined ? {} : { negate }) });
const unary = (a: unknown, operator: string, negate?: boolean) => ({ type: "UnaryStatement", operand: value(a), operator: { type: operator }, ...(negate === undefined ? {} : { negate }) });
const group = (operator: "and" | "or" | undefined, ...statements: unknown[]) => ({ type: "StatementGroup", ...(operator ? { operator } : {}), statements });

const square = [[0, 0], [10, 0], [10, 10], [0, 10]];
const triangle = [[0, 0], [100, 0], [0, 100]];

const binaryCases: [unknown, string, unknown, boolean][] = [
  [1, "==", 1, true],
  [[1, "a"], "==", [1, "a"], true],
  [{ a: [1] }, "==", { a: [1] }, true],
  ["1", "==", 1, false],
  [2, "(Number) ==", 3, false],
  ["a", "!=", "b", true],
  [2, "(Number) !=", 2, false],
  [3, "(Number) >", 2, true],
  [2, "(Number) >", 2, false],
  [2, "(Number) >=", 2, true],
  [1, "(Number) <", 2, true],
  [2, "(Number) <=", 2, true],
  [3, "(Number) <=", 2, false],
  ["person", "(String) startsWith", "per", true],
  ["person", "(String) endsWith", "son", true],
  ["person", "(String) endsWith", "per", false],
  ["sports ball", "(String) contains", "ball", true],
  ["car", "in (Sequence)", ["car", "dog"], true],
  ["cat", "in (Sequence)", ["car", "dog"], false],
  ["cat", "in (Sequence)", { cat: 1 }, true],
  ["ball", "in (Sequence)", "sports ball", true],
  [["a", "b"], "all in (Sequence)", ["a", "b", "c"], true],
  [["a", "z"], "all in (Sequence)", ["a", "b", "c"], false],
  [["z", "a"], "any in (Sequence)", ["a", "b", "c"], true],
  [["z"], "any in (Sequence)", ["a", "b", "c"], false],
  [[5, 5], "(Detection) in zone", square, true],
  [[15, 5], "(Detection) in zone", square, false],
  [[10, 5], "(Detection) in zone", square, true],
  [[50, 50], "(Detection) in zone", triangle, true],
  [[60, 60], "(Detection) in zone", triangle, false],
];

const unaryCases: [unknown, string, boolean][] = [
  [0, "Exists", true],
  [null, "Exists", false],
  [null, "DoesNotExist", true],
  ["x", "DoesNotExist", false],
  [true, "(Boolean) is True", true],
  [1, "(Boolean) is True", false],
  [false, "(Boolean) is False", true],
  [0, "(Boolean) is False", false],
  [[], "(Sequence) is empty", true],
  ["", "(Sequence) is empty", true],
  [{}, "(Sequence) is empty", true],
  [[1], "(Sequence) is empty", false],
  [[1], "(Sequence) is not empty", true],
  [{ a: 1 }, "(Sequence) is not empty", true],
];

describe("operators", () => {
  test.each(binaryCases)("%j %s %j is %p", (a, comparator, b, expected) => {
    expect(evaluateStatement(binary(a, comparator, b), {})).toBe(expected);
    expect(evaluateStatement(binary(a, comparator, b, true), {})).toBe(!expected);
  });

  test.each(unaryCases)("%j %s is %p", (a, operator, expected) => {
    expect(evaluateStatement(unary(a, operator), {})).toBe(expected);
    expect(evaluateStatement(unary(a, operator, true), {})).toBe(!expected);
  });

  test("emptiness of detections", () => {
    const empty = { type: "UnaryStatement", operand: param("d"), operator: { type: "(Sequence) is empty" } };
    expect(evaluateStatement(empty, { d: detections(0) })).toBe(true);
    expect(evaluateStatement(empty, { d: detections(2) })).toBe(false);
  });

  test("a single detection in a zone is tested at its box's centre", () => {
    const inZone = { type: "BinaryStatement", left_operand: param("_"), comparator: { type: "(Detection) in zone" }, right_operand: value([[0, 0], [5, 0], [5, 5], [0, 5]]) };
    const oneBox = detections(1); // box 0..8: centre (4, 4)
    expect(evaluateStatement(inZone, { _: oneBox })).toBe(true);
    expect(evaluateStatement(inZone, { _: { ...oneBox, items: [{ ...oneBox.items[0]!, x1: 4, x2: 12 }] } })).toBe(false);
  });
});

describe("statements", () => {
  test("a group is 'or' unless it says 'and'", () => {
    const t = binary(1, "==", 1);
    const f = binary(1, "==", 2);
    expect(evaluateStatement(group(undefined, f, t), {})).toBe(true);
    expect(evaluateStatement(group("and", t, f), {})).toBe(false);
    expect(evaluateStatement(group("and", t, group("or", f, t)), {})).toBe(true);
    expect(evaluateStatement({ ...group("or", f, f), negate: true }, {})).toBe(true);
  });

  test("dynamic operands read named parameters through their own operations", () => {
    const bigCount = { type: "BinaryStatement", left_operand: param("predictions", [{ type: "SequenceLength" }]), comparator: { type: "(Number) >=" }, right_operand: param("min", [{ type: "Multiply", other: 2 }]) };
    expect(evaluateStatement(group(undefined, bigCount), { predictions: detections(4), min: 2 })).toBe(true);
    expect(evaluateStatement(group(undefined, bigCount), { predictions: detections(3), min: 2 })).toBe(false);
  });

  test("an 'and' group stops at the first false statement, so later ones may rely on earlier ones", () => {
    const guarded = group("and", { type: "UnaryStatement", operand: param("x"), operator: { type: "Exists" } }, { type: "BinaryStatement", left_operand: param("x"), comparator: { type: "(Number) >" }, right_operand: value(3) });
    expect(evaluateStatement(guarded, { x: null })).toBe(false);
    expect(evaluateStatement(guarded, { x: 5 })).toBe(true);
  });
});

function uqlError(run: () => unknown): AppError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error("expected an error");
}

describe("the wrong kind of data fails with UQL_ERROR naming the operation and what it got", () => {
  const cases: [string, unknown[], unknown, RegExp][] = [
    ["StringToUpperCase", [{ type: "StringToUpperCase" }], detections(4), /^StringToUpperCase \(at operations\[0\]\) expects a string, got detections \(4 items\)$/],
    ["DetectionsFilter", [{ type: "DetectionsFilter", filter_operation: group(undefined, binary(1, "==", 1)) }], "abc", /DetectionsFilter .* expects detections, got a string "abc"/],
    ["ExtractDetectionProperty", [{ type: "ExtractDetectionProperty", property_name: "size" }], detections(3), /ExtractDetectionProperty .* expects a single detection, got detections \(3 items\)/],
    ["SequenceAggregate", [{ type: "SequenceAggregate", mode: "first" }], [], /SequenceAggregate .* expects a non-empty list, got a list of 0 items/],
    ["NumericSequenceAggregate", [{ type: "NumericSequenceAggregate", function: "max" }], [1, "two"], /NumericSequenceAggregate .* expects a list of numbers, got a string "two"/],
    ["LookupTable", [{ type: "LookupTable", lookup_table: { a: 1 } }], "b", /LookupTable .* the value 'b' is not in the lookup table \(keys: a\)/],
    ["ToNumber", [{ type: "ToNumber", cast_to: "int" }], "abc", /ToNumber .* got a string "abc"/],
    ["Multiply", [{ type: "Multiply", other: 2 }], null, /Multiply .* expects a number, got null/],
    ["ExtractImageProperty", [{ type: "ExtractImageProperty", property_name: "width" }], 42, /ExtractImageProperty .* expects an image, got a number 42/],
    ["ClassificationPropertyExtract", [{ type: "ClassificationPropertyExtract", property_name: "top_class" }], detections(2), /ClassificationPropertyExtract .* expects a classification, got detections \(2 items\)/],
    ["DetectionsRename strict", [{ type: "DetectionsRename", class_map: { car: "vehicle" } }], detections(1), /DetectionsRename .* class 'person' is not in class_map/],
    ["DetectionsRename parameter", [{ type: "DetectionsRename", class_map: "names" }], detections(1), /DetectionsRename .* 'class_map' names the parameter 'names', which was not given/],
    ["SequenceJoin limit", [{ type: "SequenceJoin" }], ["a".repeat(400_000), "b".repeat(400_000), "c".repeat(400_000)], /over the limit of 1000000/],
    ["nested in SequenceApply", [{ type: "SequenceApply", operations: [{ type: "StringToLowerCase" }] }], ["A", 3], /^StringToLowerCase \(at operations\[0\]\.operations\[0\]\) expects a string, got a number 3$/],
  ];

  test.each(cases)("%s", (_, ops, input, message) => {
    const e = uqlError(() => runOperations(ops, input));
    expect(e.code).toBe("UQL_ERROR");
    expect(e.status).toBe(422);
    expect(e.message).toMatch(message);
  });

  test("operators name themselves and what they got", () => {
    const e = uqlError(() => evaluateStatement(group(undefined, binary(null, "(Number) >", 1)), {}));
    expect(e.code).toBe("UQL_ERROR");
    expect(e.message).toBe("(Number) > (at statement.statements[0].comparator) expects numbers, got null");
    expect(uqlError(() => evaluateStatement(binary([1], "(String) contains", "a"), {})).message).toMatch(/\(String\) contains .* expects strings, got a list of 1 item$/);
    expect(uqlError(() => evaluateStatement(binary([1, 2], "(Detection) in zone", [[0, 0], [1, 1]]), {})).message).toMatch(/expects a zone \(a list of at least 3 points \[x, y\]\), got a list of 2 items/);
    expect(uqlError(() => evaluateStatement(unary(5, "(Sequence) is empty"), {})).message).toMatch(/\(Sequence\) is empty .* got a number 5/);
  });

  test("a parameter that was not given is named", () => {
    const e = uqlError(() => evaluateStatement(group(undefined, { type: "UnaryStatement", operand: param("missing"), operator: { type: "Exists" } }), { present: 1 }));
    expect(e.message).toBe("statement.statements[0].operand: the name 'missing' is not defined (defined: present)");
  });

  test("a definition that was never checked is refused with the path of its problem", () => {
    const e = uqlError(() => runOperations([{ type: "SequenceLength" }, { type: "Teleport" }], [1]));
    expect(e.code).toBe("UQL_ERROR");
    expect(e.status).toBe(400);
    expect(e.message).toStartWith("Invalid definition at operations[1].type: unknown operation type 'Teleport'");
    expect(uqlError(() => evaluateStatement({ type: "StatementGroup", statements: [] }, {})).message).toBe("Invalid definition at statement.statements: must be a non-empty list of statements");
  });
});
