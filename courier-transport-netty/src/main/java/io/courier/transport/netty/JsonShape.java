package io.courier.transport.netty;

import io.netty.buffer.ByteBuf;

/**
 * The outline of a JSON body, read without parsing it: whether it is an array, an object or
 * empty, and how many members it has at the top level. Enough to pick among overloads by
 * argument count before the body is decoded against the chosen method's types (which is where
 * malformed JSON is reported in detail). Immutable.
 *
 * @param kind what the body is
 * @param count top-level members of an array or object; 0 otherwise
 */
record JsonShape(Kind kind, int count) {

  /** What a body is. */
  enum Kind {
    /** Nothing but white space. */
    EMPTY,
    /** {@code [...]}: positional arguments. */
    ARRAY,
    /** <code>{...}</code>: named arguments. */
    OBJECT,
    /** Any other JSON value, or text that is not balanced JSON. */
    OTHER
  }

  private static final JsonShape EMPTY = new JsonShape(Kind.EMPTY, 0);
  private static final JsonShape OTHER = new JsonShape(Kind.OTHER, 0);

  /** The shape of the readable bytes of {@code body}; does not move its indexes. */
  static JsonShape of(ByteBuf body) {
    int i = body.readerIndex();
    int end = body.writerIndex();
    while (i < end && isSpace(body.getByte(i))) {
      i++;
    }
    if (i == end) {
      return EMPTY;
    }
    byte first = body.getByte(i);
    if (first != '[' && first != '{') {
      return OTHER;
    }
    int depth = 0;
    int commas = 0;
    boolean members = false;
    boolean inString = false;
    boolean escaped = false;
    for (; i < end; i++) {
      byte c = body.getByte(i);
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          inString = false;
        }
        continue;
      }
      switch (c) {
        case '"' -> {
          inString = true;
          members |= depth == 1;
        }
        case '[', '{' -> {
          members |= depth == 1;
          depth++;
        }
        case ']', '}' -> {
          depth--;
          if (depth == 0) {
            for (int j = i + 1; j < end; j++) {
              if (!isSpace(body.getByte(j))) {
                return OTHER; // trailing data: the parser says what is wrong
              }
            }
            return new JsonShape(first == '[' ? Kind.ARRAY : Kind.OBJECT,
                members ? commas + 1 : 0);
          }
        }
        case ',' -> commas += depth == 1 ? 1 : 0;
        default -> members |= depth == 1 && !isSpace(c);
      }
    }
    return OTHER; // unbalanced
  }

  private static boolean isSpace(byte c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }
}
