package io.arrowcache.spark;

import org.junit.BeforeClass;
import org.junit.Test;

import static io.arrowcache.spark.Compare.assertSameRows;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

/** Merge-on-read row-level deletes and updates (position delete files) read exactly. */
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
}
