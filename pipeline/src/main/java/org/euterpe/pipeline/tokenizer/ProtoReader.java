package org.euterpe.pipeline.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A bounds-checked reader of the protobuf wire format (enough for SentencePiece's {@code ModelProto}):
 * varints, fixed 32/64-bit fields and length-delimited fields, each checked against the end of its
 * enclosing message. Every malformation is a {@link SentencePieceFormatException} naming the message and
 * the byte offset.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] buf;
    private final int end;
    private final String what;
    private int pos;
    private int field;
    private int wireType;

    ProtoReader(byte[] buf, String what) {
        this(buf, 0, buf.length, what);
    }

    private ProtoReader(byte[] buf, int start, int end, String what) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
        this.what = what;
    }

    /** Reads the next field's key; false at the end of the message. */
    boolean next() {
        if (pos >= end) {
            return false;
        }
        int at = pos;
        long key = varint();
        field = (int) (key >>> 3);
        wireType = (int) (key & 7);
        if (key >>> 3 == 0 || key >>> 3 > 0x1FFF_FFFF) {
            throw error("invalid field number " + (key >>> 3), at);
        }
        return true;
    }

    int field() {
        return field;
    }

    int wireType() {
        return wireType;
    }

    long varint() {
        long v = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= end) {
                throw error("truncated varint", pos);
            }
            byte b = buf[pos++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw error("varint longer than 10 bytes", pos);
    }

    int fixed32() {
        need(4);
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    /** The current field as a float (wire type 5). */
    float floatValue(String name) {
        expect(FIXED32, name);
        return Float.intBitsToFloat(fixed32());
    }

    /** The current field as a bool or enum (wire type 0). */
    long varintValue(String name) {
        expect(VARINT, name);
        return varint();
    }

    boolean boolValue(String name) {
        return varintValue(name) != 0;
    }

    /** The current length-delimited field as a reader over its bytes. */
    ProtoReader message(String name) {
        int[] range = lengthDelimited(name);
        return new ProtoReader(buf, range[0], range[1], what + "." + name);
    }

    byte[] bytesValue(String name) {
        int[] range = lengthDelimited(name);
        return Arrays.copyOfRange(buf, range[0], range[1]);
    }

    /** The current field as strictly decoded UTF-8. */
    String stringValue(String name) {
        int at = pos;
        byte[] b = bytesValue(name);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw error(name + " is not valid UTF-8", at);
        }
    }

    /** Skips the current field's value. */
    void skip() {
        int at = pos;
        switch (wireType) {
            case VARINT -> varint();
            case FIXED64 -> {
                need(8);
                pos += 8;
            }
            case LENGTH_DELIMITED -> lengthDelimited("field " + field);
            case FIXED32 -> {
                need(4);
                pos += 4;
            }
            default -> throw error("unsupported wire type " + wireType + " (field " + field + ")", at);
        }
    }

    private int[] lengthDelimited(String name) {
        expect(LENGTH_DELIMITED, name);
        int at = pos;
        long len = varint();
        if (len < 0 || len > end - pos) {
            throw error(name + ": length " + Long.toUnsignedString(len) + " runs past the end of the message ("
                    + (end - pos) + " bytes left)", at);
        }
        int start = pos;
        pos += (int) len;
        return new int[] {start, pos};
    }

    private void expect(int wire, String name) {
        if (wireType != wire) {
            throw error(name + " (field " + field + ") has wire type " + wireType + ", expected " + wire, pos);
        }
    }

    private void need(int n) {
        if (end - pos < n) {
            throw error("truncated field (" + n + " bytes needed, " + (end - pos) + " left)", pos);
        }
    }

    SentencePieceFormatException error(String message, int at) {
        return new SentencePieceFormatException(what + ": " + message + " at byte " + at);
    }
}
