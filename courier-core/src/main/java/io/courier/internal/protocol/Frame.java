package io.courier.internal.protocol;

/**
 * Constants of the Courier binary frame. The layout is documented byte by byte in
 * {@code docs/protocol.md}; keep the two in step.
 *
 * <pre>
 *  0      2      3      4      5      6      7      8              12             16             20     22             26
 *  +------+------+------+------+------+------+------+--------------+--------------+--------------+------+--------------+----------+------+
 *  |magic |ver   |flags |ser   |comp  |status|rsvd  | request id   | word A       | word B       |meta  | body length  | metadata | body |
 *  |C0 1E |01    |      |id    |id    |      |00    | u32          | u32          | u32          |u16   | u32          |          |      |
 *  +------+------+------+------+------+------+------+--------------+--------------+--------------+------+--------------+----------+------+
 *  request:  word A = call ID, word B = timeout in milliseconds (0 = none)
 *  response: word A = server queued microseconds, word B = server executing microseconds
 * </pre>
 */
public final class Frame {

  private Frame() {}

  /** The two magic bytes, {@code 0xC0 0x1E}. */
  public static final int MAGIC = 0xC01E;
  /** The only protocol version so far. */
  public static final int VERSION = 1;
  /** Bytes in the fixed header. */
  public static final int HEADER_LENGTH = 26;

  /** The frame answers a request (clear: the frame is a request). */
  public static final int FLAG_RESPONSE = 0x01;
  /** A request that expects no answer. */
  public static final int FLAG_ONE_WAY = 0x02;
  /** A heartbeat: a ping, or with {@link #FLAG_RESPONSE} a pong. No body. */
  public static final int FLAG_HEARTBEAT = 0x04;
  /** The client gives up the request with this id; the server skips or abandons it. */
  public static final int FLAG_CANCEL = 0x08;
  /**
   * The sender takes no new calls on this connection. With a non-OK status it is a connection
   * error, and the body holds an error body explaining it; the sender then closes.
   */
  public static final int FLAG_GOAWAY = 0x10;
  /** Flags this version defines; a frame with any other bit set is a protocol error. */
  public static final int KNOWN_FLAGS = 0x1F;

  // Offsets into the fixed header.
  public static final int OFF_MAGIC = 0;
  public static final int OFF_VERSION = 2;
  public static final int OFF_FLAGS = 3;
  public static final int OFF_SERIALIZER = 4;
  public static final int OFF_COMPRESSOR = 5;
  public static final int OFF_STATUS = 6;
  public static final int OFF_RESERVED = 7;
  public static final int OFF_REQUEST_ID = 8;
  public static final int OFF_WORD_A = 12;
  public static final int OFF_WORD_B = 16;
  public static final int OFF_METADATA_LENGTH = 20;
  public static final int OFF_BODY_LENGTH = 22;
}
