package org.euterpe.pipeline.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FLAC is lossless: every file sox encodes (compression levels 0-8: fixed and LPC predictors, mid/side and
 * left/side stereo, escaped partitions; 8, 16 and 24 bits; 1-6 channels; wasted bits; a silent file's
 * constant subframes) must decode to exactly the samples of the WAV it was made from.
 */
class FlacReaderTest {
    @TempDir
    Path dir;

    @Test
    void decodesWhatSoxEncodesExactly() throws Exception {
        Sox.assume();
        String[][] cases = { // channels, bits, compression, synth
                {"1", "16", "0", "sine 300-3000 pinknoise"}, {"2", "16", "5", "sine 300-3000 pinknoise"},
                {"2", "24", "8", "sine 300-3000 pinknoise"}, {"1", "8", "5", "sine 300-3000"},
                {"6", "16", "5", "sine 300-3000 pinknoise"}, {"2", "16", "8", "whitenoise"},
                {"3", "24", "3", "sine 50 pinknoise"}, {"1", "16", "5", "sine 100 vol 0"}};
        int i = 0;
        for (String[] c : cases) {
            Path wav = dir.resolve("t" + i + ".wav");
            Path flac = dir.resolve("t" + i + ".flac");
            String[] synth = c[3].split(" ");
            String[] args = new String[10 + synth.length];
            String[] head = {"-r", "44100", "-n", "-c", c[0], "-b", c[1], wav.toString(), "synth", "0.7"};
            System.arraycopy(head, 0, args, 0, head.length);
            System.arraycopy(synth, 0, args, head.length, synth.length);
            Sox.run(args);
            Sox.run(wav.toString(), "-C", c[2], flac.toString());
            assertSame(WavReader.read(wav), AudioReader.read(flac), String.join(" ", c));
            i++;
        }
        // 16-bit audio in a 24-bit FLAC: every subframe has 8 wasted bits
        Path wav = dir.resolve("t1.wav");
        Path wide = dir.resolve("wide.flac");
        Sox.run(wav.toString(), "-b", "24", wide.toString());
        assertSame(WavReader.read(wav), AudioReader.read(wide), "wasted bits");
    }

    static void assertSame(WavReader.Audio want, WavReader.Audio got, String what) {
        assertEquals(want.sampleRate(), got.sampleRate(), what);
        assertEquals(want.channelCount(), got.channelCount(), what);
        for (int c = 0; c < want.channelCount(); c++) {
            assertArrayEquals(want.channels()[c], got.channels()[c], what + ", channel " + c);
        }
    }

    @Test
    void damagedFilesGetClearErrors() throws Exception {
        Sox.assume();
        Path wav = dir.resolve("s.wav");
        Path flac = dir.resolve("s.flac");
        Sox.run("-r", "16000", "-n", "-c", "2", "-b", "16", wav.toString(), "synth", "0.5", "pinknoise");
        Sox.run(wav.toString(), flac.toString());
        byte[] good = Files.readAllBytes(flac);
        // cut short: STREAMINFO's sample count is not reached, or a frame ends early
        byte[] cut = java.util.Arrays.copyOf(good, good.length * 2 / 3);
        String m = assertThrows(AudioFileException.class, () -> FlacReader.parse(cut)).getMessage();
        assertTrue(m.contains("malformed FLAC"), m);
        // one flipped bit in the last frame's CRC-16: the CRC check names it
        byte[] flippedCrc = good.clone();
        flippedCrc[flippedCrc.length - 1] ^= 0x01;
        assertTrue(assertThrows(AudioFileException.class, () -> FlacReader.parse(flippedCrc)).getMessage()
                .contains("CRC"));
        // one flipped bit in the audio: refused (by the CRC, or earlier by what the bit breaks)
        byte[] flipped = good.clone();
        flipped[flipped.length - 100] ^= 0x10;
        assertTrue(assertThrows(AudioFileException.class, () -> FlacReader.parse(flipped)).getMessage()
                .contains("malformed FLAC"));
        // no STREAMINFO
        byte[] noInfo = {'f', 'L', 'a', 'C', (byte) 0x81, 0, 0, 0};
        assertTrue(assertThrows(AudioFileException.class, () -> FlacReader.parse(noInfo)).getMessage()
                .contains("STREAMINFO"));
        assertTrue(assertThrows(AudioFileException.class, () -> AudioReader.parse("ID3\u0004xxxx".getBytes()))
                .getMessage().contains("MP3"));
    }
}
