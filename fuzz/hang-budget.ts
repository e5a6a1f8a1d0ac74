// How many of its generated cases may hang before a search stops. Each
// hang is seen only after the watchdog's whole bound, and an implementation
// that hangs on a common path hangs in a good share of all cases: the first
// is the finding, a few more may show other ops that hang, and past that the
// search would spend the bound again and again on what it knows. The number
// of cases a search reports is the number it ran.
export const HANGING_CASES = 3;
