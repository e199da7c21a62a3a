import { checkOperations, checkStatement } from "../../uql/index.ts";

/** The `switch` of an expression: `CasesDefinition` with `CaseDefinition`s and a default result. */
export type CaseResult =
  | { type: "StaticCaseResult"; value: unknown }
  | { type: "DynamicCaseResult"; parameter_name: string; operations?: unknown[] };

export interface Cases {
  type: "CasesDefinition";
  cases: { type: "CaseDefinition"; condition: unknown; result: CaseResult }[];
  default: CaseResult;
}

type Issue = { path: string; message: string };

export function checkCases(value: unknown, path: string): Issue[] {
  const v = value as Partial<Cases>;
  const issues: Issue[] = [];
  if (v?.type !== "CasesDefinition") issues.push({ path: `${path}.type`, message: 'must be "CasesDefinition"' });
  if (!Array.isArray(v?.cases)) return [...issues, { path: `${path}.cases`, message: "must be a list of CaseDefinition" }];
  v.cases.forEach((c, i) => {
    const at = `${path}.cases[${i}]`;
    if (c?.type !== "CaseDefinition") issues.push({ path: `${at}.type`, message: 'must be "CaseDefinition"' });
    issues.push(...checkStatement(c?.condition, `${at}.condition`), ...checkResult(c?.result, `${at}.result`));
  });
  issues.push(...checkResult(v.default, `${path}.default`));
  return issues;
}

function checkResult(r: unknown, path: string): Issue[] {
  const result = r as Partial<CaseResult> | undefined;
  if (result?.type === "StaticCaseResult") return "value" in result ? [] : [{ path, message: "a StaticCaseResult needs a value" }];
  if (result?.type === "DynamicCaseResult") {
    if (typeof result.parameter_name !== "string") return [{ path: `${path}.parameter_name`, message: "must name one of the data entries" }];
    return result.operations ? checkOperations(result.operations, `${path}.operations`) : [];
  }
  return [{ path: `${path}.type`, message: 'must be "StaticCaseResult" or "DynamicCaseResult"' }];
}
