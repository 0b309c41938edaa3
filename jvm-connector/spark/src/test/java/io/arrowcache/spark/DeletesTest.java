package io.arrowcache.spark;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.junit.BeforeClass;
import org.junit.Test;

import static io.arrowcache.spark.Compare.assertSameRows;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/**
 * Row-level deletes read exactly: merge-on-read deletes and updates (position delete files) written
 * by Spark, equality deletes (as streaming writers such as Flink commit them) written with Iceberg's
 * own writer API, and format-v3 deletion vectors refused with a clear error, never wrong rows.
 */
public class DeletesTest {
    private static TestEnv env;

    @BeforeClass
    public static void setUp() throws Exception {
        env = TestEnv.get();
    }

    @Test
    public void mergeOnReadDeletesAndUpdates() {
        String t = "mor";
        String table = TestEnv.iceberg(t);
        env.sql("DROP TABLE IF EXISTS " + table);
        env.sql("CREATE TABLE " + table + " (" + TestTables.ALL_TYPES_COLUMNS + ") USING iceberg PARTITIONED BY (bucket(2, id)) "
                + "TBLPROPERTIES ('format-version'='2', 'write.delete.mode'='merge-on-read', "
                + "'write.update.mode'='merge-on-read', 'write.merge.mode'='merge-on-read')");
        env.sql("INSERT INTO " + table + " " + TestTables.allTypesSelect(2000));
        assertSameRows("before deletes", env.icebergRead(t), env.cacheRead(t));

        env.sql("DELETE FROM " + table + " WHERE id % 7 = 0 OR s LIKE 'bc%'");
        long deleteFiles = env.sql("SELECT * FROM " + table + ".delete_files").count();
        assertTrue("merge-on-read wrote no delete files", deleteFiles > 0);
        env.refresh(t);
        assertSameRows("after DELETE", env.icebergRead(t), env.cacheRead(t));
        assertSameRows("after DELETE, filtered", env.icebergRead(t).where("i > 0 AND d < 2.0D"),
                env.cacheRead(t).where("i > 0 AND d < 2.0D"));

        env.sql("UPDATE " + table + " SET s = 'updated', i = -1 WHERE id % 5 = 1");
        env.sql("DELETE FROM " + table + " WHERE id BETWEEN 100 AND 300");
        env.refresh(t);
        assertSameRows("after UPDATE and DELETE", env.icebergRead(t), env.cacheRead(t));
        assertSameRows("after UPDATE, projected and filtered", env.icebergRead(t).where("s = 'updated'").select("id", "i"),
                env.cacheRead(t).where("s = 'updated'").select("id", "i"));
        assertEquals(env.icebergRead(t).count(), env.cacheRead(t).count());
        assertEquals(env.icebergRead(t).count(), env.spark.table(TestEnv.CACHE + "." + TestEnv.tableId(t)).count());
    }

    @Test
    public void equalityDeletesFollowSequenceNumbers() throws Exception {
        String t = "eq_deletes";
        String table = TestEnv.iceberg(t);
        env.sql("DROP TABLE IF EXISTS " + table);
        env.sql("CREATE TABLE " + table + " (id BIGINT, s STRING) USING iceberg TBLPROPERTIES ('format-version'='2')");
        env.sql("INSERT INTO " + table + " SELECT id, concat('s', CAST(id % 13 AS STRING)) FROM range(0, 3000)");

        // Delete every row whose s is s3 or s7, then the rows with ids 10..19 (a second key column).
        Table iceberg = env.icebergCatalog().loadTable(TableIdentifier.of(TestEnv.NAMESPACE, t));
        commitEqualityDeletes(iceberg, "s", Arrays.asList("s3", "s7"));
        iceberg.refresh();
        commitEqualityDeletes(iceberg, "id", Arrays.asList(10L, 11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L));
        // Rows written after a delete are not deleted by it (its sequence number is lower).
        env.sql("INSERT INTO " + table + " VALUES (5000, 's3'), (5001, 's7'), (15, 's15')");
        env.refresh(t);
        assertTrue("no equality delete files", env.sql("SELECT * FROM " + table + ".delete_files WHERE content = 2").count() == 2);
        assertSameRows("after equality deletes", env.icebergRead(t), env.cacheRead(t));
        assertSameRows("after equality deletes, filtered", env.icebergRead(t).where("s IN ('s3', 's4')"),
                env.cacheRead(t).where("s IN ('s3', 's4')"));
        assertEquals(env.icebergRead(t).count(), env.cacheRead(t).count());
    }

    /** Commits an equality delete file of {@code column IN values} (Iceberg's Parquet delete writer). */
    private static void commitEqualityDeletes(Table table, String column, List<?> values) throws IOException {
        Schema deleteSchema = table.schema().select(column);
        OutputFile out = table.io().newOutputFile(table.location() + "/data/eq-delete-" + UUID.randomUUID() + ".parquet");
        EqualityDeleteWriter<Record> writer = Parquet.writeDeletes(out)
                .forTable(table)
                .rowSchema(deleteSchema)
                .createWriterFunc(GenericParquetWriter::create)
                .equalityFieldIds(table.schema().findField(column).fieldId())
                .overwrite()
                .buildEqualityWriter();
        try (EqualityDeleteWriter<Record> w = writer) {
            for (Object value : values) {
                Record row = GenericRecord.create(deleteSchema);
                row.setField(column, value);
                w.write(row);
            }
        }
        table.newRowDelta().addDeletes(writer.toDeleteFile()).commit();
    }

    @Test
    public void deletionVectorsAreRefusedClearly() {
        String t = "dv_deletes";
        String table = TestEnv.iceberg(t);
        env.sql("DROP TABLE IF EXISTS " + table);
        env.sql("CREATE TABLE " + table + " (id BIGINT, s STRING) USING iceberg "
                + "TBLPROPERTIES ('format-version'='3', 'write.delete.mode'='merge-on-read')");
        env.sql("INSERT INTO " + table + " SELECT id, CAST(id AS STRING) FROM range(0, 500)");
        assertSameRows("before deletes", env.icebergRead(t), env.cacheRead(t));
        env.sql("DELETE FROM " + table + " WHERE id % 7 = 0");
        env.refresh(t);
        try {
            long rows = env.cacheRead(t).count();
            fail("a table with deletion vectors was read (" + rows + " rows) instead of refused");
        } catch (Exception e) {
            StringBuilder messages = new StringBuilder();
            for (Throwable c = e; c != null; c = c.getCause()) {
                messages.append(c.getMessage()).append('\n');
            }
            assertTrue(messages.toString(), messages.toString().contains("deletion vectors"));
        }
    }
}
