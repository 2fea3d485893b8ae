/** A connection URL with its password replaced by ***: the only form of a URL that is ever printed or stored. */
export function redactUrl(url: string): string {
  // Up to the last @: a password written raw may hold @, / or # itself, and must not show half of it.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):.*@/i, '$1:***@');
}

export function schemeOf(url: string): string {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? '';
}
