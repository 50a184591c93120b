export function generateKey(): Buffer;
export function wrapKey(master: Buffer, workspaceId: string, key: Buffer): Buffer;
export function unwrapKey(master: Buffer, workspaceId: string, wrapped: Buffer): Buffer;
export function sealSecrets(key: Buffer, workspaceId: string, connectionId: string, secrets: Record<string, string>): Buffer;
export function openSecrets(key: Buffer, workspaceId: string, connectionId: string, blob: Buffer): Record<string, string>;
