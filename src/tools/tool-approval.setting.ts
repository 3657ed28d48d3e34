import { ValidateBy } from '../core/validation/class-validator.parts.js';

/**
 * Which tool calls made by a turn wait for a human decision: the named tools, those whose
 * annotations say `destructiveHint: true`, all of them, or none.
 */
export type ToolApprovalSetting = 'all' | 'destructive' | 'none' | string[];

const KEYWORDS = ['all', 'destructive', 'none'];

export function isToolApprovalSetting(value: unknown): value is ToolApprovalSetting {
  if (typeof value === 'string') return KEYWORDS.includes(value);
  return (
    Array.isArray(value) &&
    value.every((name) => typeof name === 'string' && name.length > 0 && name.length <= 128)
  );
}

/** `approval` of an agent or an MCP server entry. */
export function IsToolApprovalSetting(): PropertyDecorator {
  return ValidateBy({
    name: 'isToolApprovalSetting',
    validator: {
      validate: (value: unknown) => isToolApprovalSetting(value),
      defaultMessage: () =>
        '$property must be "all", "destructive", "none" or a list of tool names',
    },
  });
}

/** Whether a setting selects a tool, given its name and its destructive hint. */
export function approvalSelects(
  setting: ToolApprovalSetting,
  name: string,
  destructive: boolean,
): boolean {
  if (setting === 'all') return true;
  if (setting === 'destructive') return destructive;
  if (setting === 'none') return false;
  return setting.includes(name);
}
