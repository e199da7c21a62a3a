import { describe, expect, test } from "bun:test";
import { checkOperations, checkStatement } from "../../src/engine/uql/index.ts";

/** Definitions are checked before they run: each problem comes with the JSON path where it is. */

const prop = (name: string) => ({ type: "DynamicOperand", operations: [{ type: "ExtractDetectionProperty", property_name: name }] });
const value = (v: unknown) => ({ type: "StaticOperand", value: v });
const binary = (comparator: unknown, left: unknown = prop("confidence"), right: unknown = value(0.5)) => ({ type: "BinaryStatement", left_operand: left, comparator, right_operand: right });
const inFilter = (statement: unknown) => [{ type: "DetectionsFilter", filter_operation: { type: "StatementGroup", operator: "and", statements: [statement] } }];
const F = "$.ops[0].filter_operation.statements[0]";

const only = (issues: { path: string; message: string }[]) => {
  expect(issues).toHaveLength(1);
  return issues[0]!;
};

describe("valid definitions have no problems", () => {
  test.each([
    ["the reference's filter example", inFilter(binary({ type: "in (Sequence)" }, prop("class_name"), { type: "DynamicOperand", operand_name: "classes" }))],
    ["an empty list", []],
    ["defaults left out", [{ type: "StringSubSequence" }, { type: "SequenceJoin", separator: "" }, { type: "SortDetections", mode: "size" }]],
    ["parameter-valued rename fields", [{ type: "DetectionsRename", class_map: "names", strict: "strictness", new_classes_id_offset: 10 }]],
    ["operations inside operands", inFilter(binary({ type: "(Number) >=" }, prop("size"), { type: "DynamicOperand", operand_name: "image", operations: [{ type: "ExtractImageProperty", property_name: "size" }, { type: "Multiply", other: 0.02 }] }))],
  ])("%s", (_, ops) => {
    expect(checkOperations(ops, "$.ops")).toEqual([]);
  });

  test("a unary statement with negate", () => {
    expect(checkStatement({ type: "UnaryStatement", operand: { type: "DynamicOperand", operand_name: "x" }, operator: { type: "Exists" }, negate: true }, "$.cond")).toEqual([]);
  });
});

describe("operation problems", () => {
  test.each([
    ["not a list", { type: "SequenceLength" }, "$.ops", "must be a list of operations"],
    ["not an object", ["SequenceLength"], "$.ops[0]", 'must be an operation: an object with a "type"'],
    ["required field missing", [{ type: "DetectionsPropertyExtract" }], "$.ops[0].property_name", "is required by DetectionsPropertyExtract"],
    ["required statement missing", [{ type: "DetectionsFilter" }], "$.ops[0].filter_operation", "is required by DetectionsFilter"],
    ["word not among the choices", [{ type: "SortDetections", mode: "area" }], "$.ops[0].mode", 'must be one of: confidence, x_min, x_max, y_min, y_max, size, center_x, center_y (got "area")'],
    ["fraction for a whole number", [{ type: "NumberRound", decimal_digits: 1.5 }], "$.ops[0].decimal_digits", "must be a whole number (got 1.5)"],
    ["text for a flag", [{ type: "SortDetections", mode: "size", ascending: "yes" }], "$.ops[0].ascending", 'must be true or false (got "yes")'],
    ["dividing by zero", [{ type: "Divide", other: 0 }], "$.ops[0].other", "must not be 0"],
    ["an invalid regular expression", [{ type: "StringMatches", regex: "(" }], "$.ops[0].regex", 'must be a valid regular expression (got "(")'],
    ["a list for a lookup table", [{ type: "LookupTable", lookup_table: ["a"] }], "$.ops[0].lookup_table", 'must be a dictionary (got ["a"])'],
    ["a number for a class map", [{ type: "DetectionsRename", class_map: 3 }], "$.ops[0].class_map", "must be a dictionary of names to new names, or the name of a parameter holding one (got 3)"],
    ["nested list not a list", [{ type: "SequenceApply", operations: "SequenceLength" }], "$.ops[0].operations", "must be a list of operations"],
  ])("%s", (_, ops, path, message) => {
    expect(only(checkOperations(ops, "$.ops"))).toEqual({ path, message });
  });

  test("an unknown type names itself and the supported ones", () => {
    const issue = only(checkOperations([{ type: "SequenceLength" }, { type: "Teleport" }], "$.ops"));
    expect(issue.path).toBe("$.ops[1].type");
    expect(issue.message).toStartWith("unknown operation type 'Teleport'; supported: ClassificationPropertyExtract, ConvertDictionaryToJSON, DetectionsFilter,");
    expect(issue.message).toContain("SequenceLength");
    expect(only(checkOperations([{ kind: "SequenceLength" }], "$.ops")).message).toStartWith("the operation has no type; supported: ");
  });

  test("problems deep inside nested lists carry their full path, all reported together", () => {
    const ops = [{ type: "SequenceApply", operations: [{ type: "StringToUpperCase" }, { type: "Nope" }] }, { type: "ToNumber" }];
    expect(checkOperations(ops, "$.steps[2].operations").map((i) => i.path)).toEqual(["$.steps[2].operations[0].operations[1].type", "$.steps[2].operations[1].cast_to"]);
  });
});

describe("statement problems", () => {
  test.each([
    ["an unknown comparator", binary({ type: "(Number) roughly" }), `${F}.comparator.type`, /^unknown operator '\(Number\) roughly'; supported: ==, \(Number\) ==, !=/],
    ["a missing comparator", { type: "BinaryStatement", left_operand: prop("size"), right_operand: value(1) }, `${F}.comparator`, /^is required: an object with a "type"/],
    ["an unknown unary operator", { type: "UnaryStatement", operand: prop("size"), operator: { type: "IsHuge" } }, `${F}.operator.type`, /^unknown operator 'IsHuge'; supported: Exists, DoesNotExist/],
    ["a missing left operand", { type: "BinaryStatement", comparator: { type: "==" }, right_operand: value(1) }, `${F}.left_operand`, /^is required: a StaticOperand or a DynamicOperand$/],
    ["a static operand without a value", binary({ type: "==" }, prop("size"), { type: "StaticOperand" }), `${F}.right_operand.value`, /^is required by StaticOperand$/],
    ["an unknown operand type", binary({ type: "==" }, { type: "MagicOperand" }), `${F}.left_operand.type`, /^unknown operand type 'MagicOperand'; use StaticOperand or DynamicOperand$/],
    ["an empty operand name", binary({ type: "==" }, { type: "DynamicOperand", operand_name: "" }), `${F}.left_operand.operand_name`, /^must be a parameter name$/],
    ["a bad operation in an operand", binary({ type: "==" }, { type: "DynamicOperand", operations: [{ type: "Teleport" }] }), `${F}.left_operand.operations[0].type`, /^unknown operation type 'Teleport'/],
    ["an unknown statement type", { type: "IfStatement" }, `${F}.type`, /^unknown statement type 'IfStatement'; use StatementGroup, BinaryStatement or UnaryStatement$/],
    ["a non-boolean negate", { ...binary({ type: "==" }), negate: "yes" }, `${F}.negate`, /^must be true or false$/],
  ])("%s", (_, statement, path, message) => {
    const issue = only(checkOperations(inFilter(statement), "$.ops"));
    expect(issue.path).toBe(path);
    expect(issue.message).toMatch(message);
  });

  test.each([
    ["not an object", "confidence > 0.5", "$.cond", "must be a statement: StatementGroup, BinaryStatement or UnaryStatement"],
    ["no statements", { type: "StatementGroup", statements: [] }, "$.cond.statements", "must be a non-empty list of statements"],
    ["an unknown group operator", { type: "StatementGroup", operator: "xor", statements: [binary({ type: "==" })] }, "$.cond.operator", 'must be "and" or "or" (got "xor")'],
  ])("a condition that is %s", (_, statement, path, message) => {
    expect(only(checkStatement(statement, "$.cond"))).toEqual({ path, message });
  });
});

describe("bounds", () => {
  const applyNested = (levels: number) => {
    let ops: unknown[] = [{ type: "SequenceLength" }];
    for (let i = 1; i < levels; i++) ops = [{ type: "SequenceApply", operations: ops }];
    return ops;
  };

  test("16 levels of nesting are fine, 17 are refused where the 17th starts", () => {
    expect(checkOperations(applyNested(16), "$.ops")).toEqual([]);
    expect(only(checkOperations(applyNested(40), "$.ops"))).toEqual({
      path: `$.ops[0]${".operations[0]".repeat(16)}`,
      message: "operations and statements are nested more than 16 levels deep",
    });
  });

  test("deeply nested statement groups are refused too", () => {
    let statement: unknown = binary({ type: "==" }, value(1), value(1));
    for (let i = 0; i < 30; i++) statement = { type: "StatementGroup", statements: [statement] };
    expect(only(checkStatement(statement, "$.cond")).path).toBe(`$.cond${".statements[0]".repeat(16)}`);
  });

  test("at most 1000 operations and statements in one tree, counted across nested lists", () => {
    const flat = (n: number) => Array.from({ length: n }, () => ({ type: "SequenceLength" }));
    expect(checkOperations(flat(1000), "$.ops")).toEqual([]);
    expect(only(checkOperations(flat(5000), "$.ops"))).toEqual({ path: "$.ops[1000]", message: "more than 1000 operations and statements in one definition" });
    expect(only(checkOperations([{ type: "SequenceApply", operations: flat(999) }, { type: "SequenceLength" }], "$.ops")).path).toBe("$.ops[1]");
  });
});
