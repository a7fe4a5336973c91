package org.euterpe.pipeline.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;

import org.euterpe.tensor.DType;
import org.junit.jupiter.api.Test;

/** The SNR measure and the floor chosen from a model's weight dtypes. */
class SnrTest {
    @Test
    void aOnePercentRelativeErrorIsFortyDecibels() {
        float[] ref = {1, -2, 3, 0.5f};
        float[] got = new float[ref.length];
        for (int i = 0; i < ref.length; i++) {
            got[i] = ref[i] + 0.01f * ref[i]; // noise power = 1e-4 * signal power
        }
        assertEquals(40.0, ConformanceRunner.snrDb(got, ref), 1e-4);
    }

    @Test
    void exactIsInfiniteAndNanIsNan() {
        float[] ref = {1, 2};
        assertEquals(Double.POSITIVE_INFINITY, ConformanceRunner.snrDb(ref.clone(), ref));
        assertTrue(Double.isNaN(ConformanceRunner.snrDb(new float[] {Float.NaN, 2}, ref)));
    }

    @Test
    void theFloorFollowsTheLowestWeightPrecision() {
        assertTrue(Double.isNaN(ConformanceRunner.snrFloor(Map.of("unet", Set.of(DType.F32, DType.I64)))));
        assertEquals(ConformanceRunner.SNR_16BIT_DB,
                ConformanceRunner.snrFloor(Map.of("unet", Set.of(DType.BF16, DType.F32), "vae", Set.of(DType.F32))));
        assertEquals(ConformanceRunner.SNR_INT8_DB,
                ConformanceRunner.snrFloor(Map.of("unet", Set.of(DType.I8, DType.F32), "vae", Set.of(DType.F16))));
    }
}
