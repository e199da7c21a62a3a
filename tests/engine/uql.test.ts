import { describe, expect, test } from "bun:test";
import { rootRef, type Classification, type Detection, type Detections } from "../../src/engine/detections.ts";
import { runOperations, type FrameMetadata } from "../../src/engine/uql/index.ts";

/**
 * The operations language on realistic values: every operation and operator with its result written out,
 * the reference's documented examples, and the errors a wrong kind of data gives.
 */

const image = rootRef("frame-1", 640, 480);

function box(id: string, className: string, classId: number, confidence: number, [x1, y1, x2, y2]: number[], extra: Partial<Detection> = {}): Detection {
  return { x1: x1!, y1: y1!, x2: x2!, y2: y2!, className, classId, confidence, detectionId: id, parentId: image.id, ...extra };
}

const set = (items: Detection[]): Detections => ({ kind: "detections", image, items });

// Areas 20000, 16000, 1800, 4800; centres (60,120), (380,250), (415,80), (240,410).
const scene = set([
  box("a", "person", 0, 0.92, [10, 20, 110, 220]),
  box("b", "car", 2, 0.55, [300, 200, 460, 300]),
  box("c", "person", 0, 0.35, [400, 50, 430, 110], { trackerId: 7, data: { time_in_zone: 2.5, text: "PLATE-1" } }),
  box("d", "dog", 16, 0.81, [200, 380, 280, 440]),
]);
const one = (id: string) => set(scene.items.filter((d) => d.detectionId === id));
const ids = (v: unknown) => (v as Detections).items.map((d) => d.detectionId);
const boxes = (v: unknown) => (v as Detections).items.map((d) => [d.x1, d.y1, d.x2, d.y2]);

const classification: Classification = {
  kind: "classification",
  image,
  top: "cat",
  confidence: 0.6,
  predictions: [
    { className: "cat", classId: 0, confidence: 0.6 },
    { className: "dog", classId: 1, confidence: 0.4 },
  ],
};

const frame: FrameMetadata = { video_identifier: "cam-1", frame_number: 61, fps: 30, frame_timestamp: new Date("2024-05-01T12:00:02Z") };
const videoFrame = { ...rootRef("cam-1/61", 1280, 720), videoMetadata: frame };

const op = (type: string, fields: Record<string, unknown> = {}) => ({ type, ...fields });
const prop = (name: string) => ({ type: "DynamicOperand", operand_name: "_", operations: [op("ExtractDetectionProperty", { property_name: name })] });
const value = (v: unknown) => ({ type: "StaticOperand", value: v });
const binary = (left: unknown, comparator: string, right: unknown, negate = false) => ({ type: "BinaryStatement", left_operand: left, comparator: { type: comparator }, right_operand: right, negate });
const group = (operator: "and" | "or" | undefined, ...statements: unknown[]) => ({ type: "StatementGroup", ...(operator ? { operator } : {}), statements });
const filter = (statement: unknown) => op("DetectionsFilter", { filter_operation: statement });

type Case = [name: string, ops: unknown[], input: unknown, expected: unknown, params?: Record<string, unknown>];

const cases: Case[] = [
  ["DetectionsPropertyExtract class_name", [op("DetectionsPropertyExtract", { property_name: "class_name" })], scene, ["person", "car", "person", "dog"]],
  ["DetectionsPropertyExtract confidence", [op("DetectionsPropertyExtract", { property_name: "confidence" })], scene, [0.92, 0.55, 0.35, 0.81]],
  ["DetectionsPropertyExtract size", [op("DetectionsPropertyExtract", { property_name: "size" })], scene, [20000, 16000, 1800, 4800]],
  ["DetectionsPropertyExtract center", [op("DetectionsPropertyExtract", { property_name: "center" })], scene, [[60, 120], [380, 250], [415, 80], [240, 410]]],
  ["DetectionsPropertyExtract centre in whole pixels (half to even)", [op("DetectionsPropertyExtract", { property_name: "center" })], set([box("h", "x", 0, 1, [0, 0, 5, 3])]), [[2, 2]]],
  ["DetectionsPropertyExtract tracker_id", [op("DetectionsPropertyExtract", { property_name: "tracker_id" })], scene, [null, null, 7, null]],
  ["DetectionsPropertyExtract a data value", [op("DetectionsPropertyExtract", { property_name: "time_in_zone" })], scene, [null, null, 2.5, null]],
  ["ExtractDetectionProperty center keeps fractions", [op("ExtractDetectionProperty", { property_name: "center" })], set([box("h", "x", 0, 1, [0, 0, 5, 3])]), [2.5, 1.5]],
  ["ExtractDetectionProperty top_right", [op("ExtractDetectionProperty", { property_name: "top_right" })], one("c"), [430, 50]],
  ["ExtractDetectionProperty bottom_left", [op("ExtractDetectionProperty", { property_name: "bottom_left" })], one("c"), [400, 110]],
  ["ExtractDetectionProperty x_max", [op("ExtractDetectionProperty", { property_name: "x_max" })], one("c"), 430],
  ["ExtractDetectionProperty class_id", [op("ExtractDetectionProperty", { property_name: "class_id" })], one("d"), 16],
  ["ExtractDetectionProperty width", [op("ExtractDetectionProperty", { property_name: "width" })], one("c"), 30],
  ["ExtractDetectionProperty height", [op("ExtractDetectionProperty", { property_name: "height" })], one("c"), 60],
  ["ExtractDetectionProperty tracker_id", [op("ExtractDetectionProperty", { property_name: "tracker_id" })], one("c"), 7],
  ["ExtractDetectionProperty time_in_zone", [op("ExtractDetectionProperty", { property_name: "time_in_zone" })], one("c"), 2.5],
  ["ExtractDetectionProperty another data key (OCR text)", [op("ExtractDetectionProperty", { property_name: "text" })], one("c"), "PLATE-1"],
  ["ExtractDetectionProperty velocity when not set", [op("ExtractDetectionProperty", { property_name: "velocity" })], one("c"), null],
  ["ExtractDetectionProperty image_dimensions (h, w)", [op("ExtractDetectionProperty", { property_name: "image_dimensions" })], one("a"), [480, 640]],
  ["ExtractDetectionProperty prediction_type", [op("ExtractDetectionProperty", { property_name: "prediction_type" })], one("a"), "object-detection"],
  ["ExtractDetectionProperty polygon when none", [op("ExtractDetectionProperty", { property_name: "polygon" })], one("a"), null],
  ["SequenceLength of detections", [op("SequenceLength")], scene, 4],
  ["SequenceLength of a list", [op("SequenceLength")], [1, 2, 3], 3],
  ["SequenceLength of a dictionary", [op("SequenceLength")], { a: 1, b: 2 }, 2],
  ["SequenceLength of a string", [op("SequenceLength")], "abc", 3],
  ["SequenceElementsCount", [op("SequenceElementsCount")], ["car", "person", "car"], { car: 2, person: 1 }],
  ["SequenceAggregate first", [op("SequenceAggregate", { mode: "first" })], ["b", "a", "b", "c", "a", "b"], "b"],
  ["SequenceAggregate last", [op("SequenceAggregate", { mode: "last" })], ["b", "a", "b", "c", "a", "b"], "b"],
  ["SequenceAggregate most_common", [op("SequenceAggregate", { mode: "most_common" })], ["a", "b", "b", "c", "a", "b"], "b"],
  ["SequenceAggregate least_common", [op("SequenceAggregate", { mode: "least_common" })], ["b", "a", "b", "c", "a", "b"], "c"],
  ["SequenceAggregate most_common tie: first seen", [op("SequenceAggregate", { mode: "most_common" })], ["x", "y"], "x"],
  ["SequenceAggregate least_common tie: last seen", [op("SequenceAggregate", { mode: "least_common" })], ["x", "y"], "y"],
  ["NumericSequenceAggregate min", [op("NumericSequenceAggregate", { function: "min" })], [3, 1.5, 7], 1.5],
  ["NumericSequenceAggregate max", [op("NumericSequenceAggregate", { function: "max" })], [3, 1.5, 7], 7],
  ["NumericSequenceAggregate sum", [op("NumericSequenceAggregate", { function: "sum" })], [3, 1.5, 7], 11.5],
  ["NumericSequenceAggregate empty gives neutral_value", [op("NumericSequenceAggregate", { function: "max", neutral_value: 0 })], [], 0],
  ["NumericSequenceAggregate empty without neutral_value", [op("NumericSequenceAggregate", { function: "min" })], [], null],
  ["SequenceMap", [op("SequenceMap", { lookup_table: { person: "P", car: "C" } })], ["person", "car", "person"], ["P", "C", "P"]],
  ["SequenceApply on a list", [op("SequenceApply", { operations: [op("StringToUpperCase")] })], ["a", "b"], ["A", "B"]],
  ["SequenceApply on detections, one at a time", [op("SequenceApply", { operations: [op("ExtractDetectionProperty", { property_name: "x_min" })] })], scene, [10, 300, 400, 200]],
  ["SequenceJoin default separator", [op("SequenceJoin")], ["a", "b"], "a, b"],
  ["SequenceJoin numbers", [op("SequenceJoin", { separator: "-" })], [1, 2, 3], "1-2-3"],
  ["SequenceJoin empty", [op("SequenceJoin")], [], ""],
  ["LookupTable string key", [op("LookupTable", { lookup_table: { cat: "feline", "1": "one" } })], "cat", "feline"],
  ["LookupTable number looked up by its text", [op("LookupTable", { lookup_table: { cat: "feline", "1": "one" } })], 1, "one"],
  ["ToNumber int from text", [op("ToNumber", { cast_to: "int" })], "42", 42],
  ["ToNumber int drops the fraction", [op("ToNumber", { cast_to: "int" })], "-3.7", -3],
  ["ToNumber float", [op("ToNumber", { cast_to: "float" })], " 3.14 ", 3.14],
  ["ToNumber from a boolean", [op("ToNumber", { cast_to: "float" })], true, 1],
  ["ToString number", [op("ToString")], 3.5, "3.5"],
  ["ToString boolean (reference spelling)", [op("ToString")], true, "True"],
  ["ToString null", [op("ToString")], null, "None"],
  ["ToString list", [op("ToString")], ["a", 1], '["a",1]'],
  ["ToBoolean zero", [op("ToBoolean")], 0, false],
  ["ToBoolean number", [op("ToBoolean")], 2, true],
  ["ToBoolean empty string", [op("ToBoolean")], "", false],
  ["ToBoolean empty detections", [op("ToBoolean")], set([]), false],
  ["ToBoolean detections", [op("ToBoolean")], scene, true],
  ["NumberRound 2 digits", [op("NumberRound", { decimal_digits: 2 })], 3.14159, 3.14],
  ["NumberRound half to even (down)", [op("NumberRound", { decimal_digits: 0 })], 2.5, 2],
  ["NumberRound half to even (up)", [op("NumberRound", { decimal_digits: 0 })], 3.5, 4],
  ["NumberRound negative digits", [op("NumberRound", { decimal_digits: -2 })], 1234, 1200],
  ["Multiply", [op("Multiply", { other: 100 })], 0.25, 25],
  ["Divide", [op("Divide", { other: 4 })], 10, 2.5],
  ["StringToUpperCase", [op("StringToUpperCase")], "Hello", "HELLO"],
  ["StringToLowerCase", [op("StringToLowerCase")], "Hello", "hello"],
  ["StringSubSequence default drops the last character", [op("StringSubSequence")], "hello", "hell"],
  ["StringSubSequence start and end", [op("StringSubSequence", { start: 1, end: 3 })], "hello", "el"],
  ["StringSubSequence negative start", [op("StringSubSequence", { start: -3, end: 100 })], "hello", "llo"],
  ["StringMatches anywhere", [op("StringMatches", { regex: "hello" })], "say hello", true],
  ["StringMatches anchored", [op("StringMatches", { regex: "^hello$" })], "hello world", false],
  ["StringMatches no match", [op("StringMatches", { regex: "hello" })], "hell", false],
  ["ConvertDictionaryToJSON", [op("ConvertDictionaryToJSON")], { a: 1, b: ["x"] }, '{"a":1,"b":["x"]}'],
  ["ClassificationPropertyExtract top_class", [op("ClassificationPropertyExtract", { property_name: "top_class" })], classification, "cat"],
  ["ClassificationPropertyExtract top_class_confidence", [op("ClassificationPropertyExtract", { property_name: "top_class_confidence" })], classification, 0.6],
  ["ClassificationPropertyExtract top_class_confidence_single", [op("ClassificationPropertyExtract", { property_name: "top_class_confidence_single" })], classification, 0.6],
  ["ClassificationPropertyExtract all_classes", [op("ClassificationPropertyExtract", { property_name: "all_classes" })], classification, ["cat", "dog"]],
  ["ClassificationPropertyExtract all_confidences", [op("ClassificationPropertyExtract", { property_name: "all_confidences" })], classification, [0.6, 0.4]],
  ["ExtractImageProperty size", [op("ExtractImageProperty", { property_name: "size" })], image, 307200],
  ["ExtractImageProperty width", [op("ExtractImageProperty", { property_name: "width" })], image, 640],
  ["ExtractImageProperty height", [op("ExtractImageProperty", { property_name: "height" })], image, 480],
  ["ExtractImageProperty aspect_ratio", [op("ExtractImageProperty", { property_name: "aspect_ratio" })], image, 640 / 480],
  ["ExtractFrameMetadata frame_number", [op("ExtractFrameMetadata", { property_name: "frame_number" })], videoFrame, 61],
  ["ExtractFrameMetadata seconds_since_start (frames count from 1)", [op("ExtractFrameMetadata", { property_name: "seconds_since_start" })], videoFrame, 2],
  ["ExtractFrameMetadata frame_timestamp as ISO text", [op("ExtractFrameMetadata", { property_name: "frame_timestamp" }), op("TimestampToISOFormat")], videoFrame, "2024-05-01T12:00:02.000Z"],
  ["ExtractFrameMetadata from video metadata alone", [op("ExtractFrameMetadata", { property_name: "frame_number" })], frame, 61],
  ["ExtractFrameMetadata of a still image: frame 0", [op("ExtractFrameMetadata", { property_name: "frame_number" })], image, 0],
  ["RandomNumber with equal bounds", [op("RandomNumber", { min_value: 2, max_value: 2 })], "ignored", 2],
  ["an empty list changes nothing", [], "as is", "as is"],
  ["a chain: count each class", [op("DetectionsPropertyExtract", { property_name: "class_name" }), op("SequenceElementsCount")], scene, { person: 2, car: 1, dog: 1 }],
];

describe("operations give the values the reference gives", () => {
  // A rest parameter: a callback declaring more parameters than a row has would be taken for `done`.
  test.each(cases)("%s", (...[, ops, input, expected, params]: Case) => {
    const result = runOperations(ops, input, params);
    if (typeof expected === "number" && !Number.isInteger(expected)) expect(result as number).toBeCloseTo(expected, 10);
    else expect(result).toEqual(expected);
  });

  test("RandomNumber stays within its bounds", () => {
    for (let i = 0; i < 50; i++) {
      const n = runOperations([op("RandomNumber", { min_value: 5, max_value: 10 })], null) as number;
      expect(n).toBeGreaterThanOrEqual(5);
      expect(n).toBeLessThan(10);
    }
  });
});

describe("operations on detections give new detections", () => {
  const run = (ops: unknown[], input: unknown = scene, params?: Record<string, unknown>) => runOperations(ops, input, params) as Detections;

  test("DetectionsFilter keeps the items whose statement holds, with their ids and image", () => {
    const out = run([filter(binary(prop("class_name"), "==", value("person")))]);
    expect(ids(out)).toEqual(["a", "c"]);
    expect(out.image).toBe(image);
    expect(ids(scene)).toEqual(["a", "b", "c", "d"]);
  });

  test.each([
    ["confidence", false, ["a", "d", "b", "c"]],
    ["confidence", true, ["c", "b", "d", "a"]],
    ["size", true, ["c", "d", "b", "a"]],
    ["x_min", true, ["a", "d", "b", "c"]],
    ["x_max", false, ["b", "c", "d", "a"]],
    ["y_min", true, ["a", "c", "b", "d"]],
    ["y_max", false, ["d", "b", "a", "c"]],
    ["center_x", true, ["a", "d", "b", "c"]],
    ["center_y", true, ["c", "a", "b", "d"]],
  ] as const)("SortDetections by %s (ascending %p)", (mode, ascending, expected) => {
    expect(ids(run([op("SortDetections", { mode, ascending })]))).toEqual([...expected]);
  });

  test("SortDetections is ascending unless told otherwise", () => {
    expect(ids(run([op("SortDetections", { mode: "confidence" })]))).toEqual(["c", "b", "d", "a"]);
  });

  test.each([
    ["left_most", ["a"]],
    ["right_most", ["c"]],
    ["top_confidence", ["a"]],
    ["first", ["a"]],
    ["last", ["d"]],
  ] as const)("DetectionsSelection %s", (mode, expected) => {
    expect(ids(run([op("DetectionsSelection", { mode })]))).toEqual([...expected]);
    expect(ids(run([op("DetectionsSelection", { mode })], set([])))).toEqual([]);
  });

  test("DetectionsRename strict: every class mapped, new ids number the sorted targets from 0", () => {
    const out = run([op("DetectionsRename", { class_map: { person: "human", car: "vehicle", dog: "animal" } })]);
    expect(out.items.map((d) => [d.className, d.classId, d.detectionId])).toEqual([
      ["human", 1, "a"],
      ["vehicle", 2, "b"],
      ["human", 1, "c"],
      ["animal", 0, "d"],
    ]);
    expect(scene.items[0]!.className).toBe("person");
  });

  test("DetectionsRename not strict: kept classes keep their ids, new names count from the offset", () => {
    const out = run([op("DetectionsRename", { class_map: { person: "human", dog: "dog" }, strict: false })]);
    expect(out.items.map((d) => [d.className, d.classId])).toEqual([
      ["human", 1024],
      ["car", 2],
      ["human", 1024],
      ["dog", 16],
    ]);
    const offset = run([op("DetectionsRename", { class_map: { person: "zebra", car: "bus" }, strict: false, new_classes_id_offset: 100 })]);
    expect(offset.items.map((d) => d.classId)).toEqual([101, 100, 101, 16]);
  });

  test("DetectionsRename takes class_map and strict from parameters named in the definition", () => {
    const out = run([op("DetectionsRename", { class_map: "names", strict: "strictness" })], scene, { names: { person: "human" }, strictness: false });
    expect(out.items.map((d) => d.className)).toEqual(["human", "car", "human", "dog"]);
  });

  test("DetectionsOffset grows each box by half the offset on every side", () => {
    expect(boxes(run([op("DetectionsOffset", { offset_x: 10, offset_y: 20 })], one("a")))).toEqual([[5, 10, 115, 230]]);
  });

  test("DetectionsShift moves boxes and their outlines, keeping ids", () => {
    const withOutline = set([box("p", "person", 0, 0.9, [10, 20, 110, 220], { polygon: [[10, 20], [110, 20], [60, 220]] })]);
    const out = run([op("DetectionsShift", { shift_x: 5, shift_y: -10 })], withOutline);
    expect(boxes(out)).toEqual([[15, 10, 115, 210]]);
    expect(out.items[0]!.polygon).toEqual([[15, 10], [115, 10], [65, 210]]);
    expect(ids(out)).toEqual(["p"]);
  });

  test("DetectionsToDictionary gives the reference's response format", () => {
    expect(runOperations([op("DetectionsToDictionary")], one("a"))).toEqual({
      image: { width: 640, height: 480 },
      predictions: [{ x: 60, y: 120, width: 100, height: 200, confidence: 0.92, class_id: 0, class: "person", detection_id: "a", parent_id: "frame-1" }],
    });
  });

  test("PickDetectionsByParentClass: parents first, then detections centred in a parent's box", () => {
    const family = set([
      box("p1", "a", 0, 0.3, [0, 0, 50, 50]),
      box("c1", "b", 1, 0.4, [20, 20, 30, 30]),
      box("c2", "b", 1, 0.5, [40, 40, 50, 50]),
      box("p2", "a", 0, 0.6, [100, 100, 200, 200]),
      box("c3", "c", 2, 0.7, [150, 100, 250, 200]),
      box("x", "d", 3, 0.9, [400, 400, 600, 600]),
    ]);
    expect(ids(run([op("PickDetectionsByParentClass", { parent_class: "a" })], family))).toEqual(["p1", "p2", "c1", "c2", "c3"]);
    expect(ids(run([op("PickDetectionsByParentClass", { parent_class: "zebra" })], family))).toEqual([]);
  });
});

describe("the reference's documented examples", () => {
  const byClass = filter(group(undefined, binary(prop("class_name"), "in (Sequence)", { type: "DynamicOperand", operand_name: "classes" })));

  test("filter by class names given as a parameter", () => {
    expect(ids(runOperations([byClass], scene, { classes: ["person", "dog"] }))).toEqual(["a", "c", "d"]);
  });

  test("filter by class and size, then count (SequenceLength)", () => {
    const bigPeople = filter(group("and", binary(prop("class_name"), "in (Sequence)", { type: "DynamicOperand", operand_name: "classes" }), binary(prop("size"), "(Number) >=", { type: "DynamicOperand", operand_name: "min_area" })));
    expect(ids(runOperations([bigPeople], scene, { classes: ["person"], min_area: 1500 }))).toEqual(["a", "c"]);
    expect(runOperations([bigPeople, op("SequenceLength")], scene, { classes: ["person"], min_area: 5000 })).toBe(1);
  });

  test("filter by confidence", () => {
    expect(ids(runOperations([filter(group(undefined, binary(prop("confidence"), "(Number) >", value(0.8))))], scene))).toEqual(["a", "d"]);
  });

  test("size relative to the image: a parameter operand with its own operations", () => {
    const relative = { type: "DynamicOperand", operand_name: "image", operations: [op("ExtractImageProperty", { property_name: "size" }), op("Multiply", { other: 0.02 })] };
    expect(ids(runOperations([filter(group(undefined, binary(prop("size"), "(Number) >=", relative)))], scene, { image }))).toEqual(["a", "b"]);
  });

  test("in zone: a detection's centre inside a polygon", () => {
    const leftHalf = value([[0, 0], [320, 0], [320, 480], [0, 480]]);
    expect(ids(runOperations([filter(group("and", binary(prop("center"), "(Detection) in zone", leftHalf)))], scene))).toEqual(["a", "d"]);
    const whole = value([[0, 0], [0, 1000], [1000, 1000], [1000, 0]]);
    expect(ids(runOperations([filter(group("and", binary({ type: "DynamicOperand", operand_name: "_" }, "(Detection) in zone", whole)))], scene))).toEqual(["a", "b", "c", "d"]);
  });

  test("classification top class through a lookup table", () => {
    expect(runOperations([op("ClassificationPropertyExtract", { property_name: "top_class" }), op("LookupTable", { lookup_table: { cat: "pet", wolf: "wild" } })], classification)).toBe("pet");
  });
});
