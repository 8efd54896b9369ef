"""The warehouse engines beside the default DuckDB file: Apache Spark (dbt-spark, the mining statistics in
Spark SQL). Nothing here is imported by the code location; pyspark is an optional extra (``.[spark]``)."""
