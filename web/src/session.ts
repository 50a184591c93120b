/**
 * The signed-in person's session token. Kept in localStorage so a reload keeps you signed in;
 * the page's Content-Security-Policy (no inline or foreign scripts) is what keeps other code
 * from reading it.
 */
const KEY = "patchbay.session";

export function sessionToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveSession(token: string): void {
  localStorage.setItem(KEY, token);
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}
