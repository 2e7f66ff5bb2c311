// Repository paths as the snapshot gives them: `/`-separated, relative to the root, no leading `./`.

/** The directory of a path: `internal/controller` for `internal/controller/db.go`, '' at the root. */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}
