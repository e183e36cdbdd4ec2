// Input hints dark enough to read (WCAG AA): Mantine's default "dimmed" is too light on white.
export const readableDescription = { description: { color: "var(--mantine-color-gray-7)" } };
