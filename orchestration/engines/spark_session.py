"""A local Spark session as the platform's dbt profile describes it (dbt_project/profiles.yml, target spark).

dbt-spark's session method calls ``SparkSession.builder.getOrCreate()``: a session started here first is the
one dbt builds in, so the same process can then read the marts and mine them. Its catalog is in memory (no
Derby metastore files in the working folder); a cluster's is its metastore.
"""

from __future__ import annotations

import os
from pathlib import Path


def local_spark(warehouse_dir: Path, cores: int = 2, partitions: int = 4):
    """A SparkSession on ``local[cores]`` with its tables under ``warehouse_dir``; UTC session time zone."""
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("gigafactory")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", str(warehouse_dir))
        .config("spark.sql.ansi.enabled", "false")  # x / 0 is NULL, as in DuckDB
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.hive.manageFilesourcePartitions", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", os.environ.get("GIGAFACTORY_SPARK_DRIVER_MEMORY", "2g"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark
