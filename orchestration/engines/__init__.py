"""The warehouse engines beside the default DuckDB file: Apache Spark (dbt-spark, the mining statistics in
Spark SQL, the Spark tables as views of the DuckDB file). The code location imports nothing here when it
loads: the Warehouse resource imports what a run on Spark needs when the run calls it; pyspark is an optional
extra (``.[spark]``)."""
