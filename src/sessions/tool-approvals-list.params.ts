/** `tool.approvals.list` takes no params: it lists every pending request the caller may decide. */
export class ToolApprovalsListParams {}
