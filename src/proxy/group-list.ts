// The local account's groups as one header value (or assertion claim) that an application can split
// back without guessing: a group name may hold a comma ("DPI Admins, Nord" in Active Directory).
// Each name has "%" and "," percent-encoded, names are joined by ","; to read it, split on ","
// and percent-decode each part.

const escapePercent = (name: string): string => name.replaceAll('%', '%25')

/**
 * `escapeName` must escape "%" at least (the default does only that); the percent header
 * encoding passes its own, which escapes "%" with every byte outside printable ASCII, so that
 * each part is percent-decoded once.
 */
export function encodeGroupList(
  groups: readonly string[],
  escapeName: (name: string) => string = escapePercent,
): string {
  return groups.map((g) => escapeName(g).replaceAll(',', '%2C')).join(',')
}
