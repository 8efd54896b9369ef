{#-
  OEE and utilization per route step (all machines of the step) and factory day, ISO 22400-2: summed first,
  ratios from the sums. The step with the highest utilization is the plant's constraint that day.
  Incremental by factory day.
-#}
{{ oee_rollup('activity') }}
