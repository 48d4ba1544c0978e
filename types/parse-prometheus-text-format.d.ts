// parse-prometheus-text-format ships no types; this is the one function it exports (test use only).
declare module "parse-prometheus-text-format" {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
