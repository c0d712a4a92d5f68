/** Placeholder while the page is being built. */
export function Runs(_props: Record<string, unknown>) {
  return <p>Coming soon.</p>;
}
