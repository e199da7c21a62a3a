import { t } from "elysia";

/** Request and response shapes of the workflows resource. */
export const WorkflowIdParams = t.Object({ workflowId: t.String() });

export const AddWorkflowBody = t.Object({
  workflowId: t.String({ description: "1-100 lower-case letters, digits, '-', '_' or '.'" }),
  definition: t.Unknown({ description: "the workflow definition (Roboflow Workflows JSON)" }),
  overwrite: t.Optional(t.Boolean()),
});

export const ValidateBody = t.Object({ definition: t.Unknown() });

const Issue = t.Object({ path: t.String(), message: t.String() });

export const WorkflowSummary = t.Object({
  workflowId: t.String(),
  createdAt: t.String(),
  updatedAt: t.String(),
  steps: t.Integer(),
  outputs: t.Array(t.String()),
  modelIds: t.Array(t.String()),
});

export const AddedWorkflow = t.Composite([WorkflowSummary, t.Object({ warnings: t.Array(Issue) })]);
export const WorkflowList = t.Object({ workflows: t.Array(WorkflowSummary), nextPageToken: t.Optional(t.String()) });
export const WorkflowWithDefinition = t.Composite([WorkflowSummary, t.Object({ definition: t.Unknown() })]);
export const ValidationResult = t.Object({ valid: t.Boolean(), steps: t.Integer(), outputs: t.Array(t.String()), modelIds: t.Array(t.String()), warnings: t.Array(Issue) });
export const ListQuery = t.Object({ pageSize: t.Optional(t.Numeric()), pageToken: t.Optional(t.String()) });
