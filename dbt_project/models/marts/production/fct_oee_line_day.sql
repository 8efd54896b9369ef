{#-
  OEE per production line and factory day, ISO 22400-2: the line's machine days are summed (times, quantities,
  six big losses) and the ratios taken from the sums, never averaged. Incremental by factory day.
-#}
{{ oee_rollup('line_id') }}
