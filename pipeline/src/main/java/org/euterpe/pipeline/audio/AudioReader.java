package org.euterpe.pipeline.audio;

import java.nio.file.Path;

/** Reads an audio file of any supported container, chosen by its first bytes: WAV ({@link WavReader}) or FLAC ({@link FlacReader}). */
public final class AudioReader {
    private AudioReader() {
    }

    /**
     * @throws AudioFileException naming the file and the problem: missing, unreadable, a folder, too large,
     *                            malformed, an unsupported container or codec, or no samples
     */
    public static WavReader.Audio read(Path path) throws AudioFileException {
        byte[] bytes = WavReader.readBytes(path);
        try {
            return parse(bytes);
        } catch (AudioFileException e) {
            throw new AudioFileException(path + ": " + e.getMessage(), e);
        }
    }

    /** Decodes a WAV or FLAC file's bytes. */
    public static WavReader.Audio parse(byte[] bytes) throws AudioFileException {
        if (FlacReader.isFlac(bytes)) {
            return FlacReader.parse(bytes);
        }
        String magic = bytes.length >= 4 ? new String(bytes, 0, 4, java.nio.charset.StandardCharsets.ISO_8859_1) : "";
        if (magic.equals("RIFF") || magic.equals("RIFX") || magic.equals("RF64")) {
            return WavReader.parse(bytes); // which names what it does not read
        }
        String kind = bytes.length >= 3 && bytes[0] == 'I' && bytes[1] == 'D' && bytes[2] == '3' ? " (it looks like MP3)"
                : bytes.length >= 4 && bytes[0] == 'O' && bytes[1] == 'g' && bytes[2] == 'g' && bytes[3] == 'S'
                        ? " (it looks like Ogg)" : "";
        throw new AudioFileException("not a WAV or FLAC file" + kind + "; convert it, e.g. sox in.mp3 out.wav");
    }
}
