/**
 * The nesting depth of a YAML document, measured on the `yaml` package's concrete syntax tree:
 * its lexer and parser work with explicit stacks, while building values (parseDocument's
 * composer) recurses once per level. Measuring first bounds that recursion.
 */
import { Parser } from "yaml";
import type { CST } from "yaml";

/** Whether any document in `content` nests block or flow collections more than `limit` levels. */
export function yamlNestsDeeperThan(content: string, limit: number): boolean {
  const stack: Array<{ token: CST.Token | null | undefined; depth: number }> = [];
  for (const token of new Parser().parse(content)) {
    stack.push({ token, depth: 0 });
    while (stack.length > 0) {
      const { token: node, depth } = stack.pop()!;
      if (!node) continue;
      switch (node.type) {
        case "document":
          stack.push({ token: node.value, depth });
          break;
        case "block-map":
        case "block-seq":
        case "flow-collection": {
          if (depth + 1 > limit) return true;
          for (const item of node.items) {
            if ("key" in item) stack.push({ token: item.key, depth: depth + 1 });
            stack.push({ token: item.value, depth: depth + 1 });
          }
          break;
        }
        case "block-scalar":
          // Properties (anchors, tags) only; its text is not a collection.
          break;
        default:
          break;
      }
    }
  }
  return false;
}
