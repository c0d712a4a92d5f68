/** Placeholder while the page is being built. */
export function Builder(_props: Record<string, unknown>) {
  return <p>Coming soon.</p>;
}
