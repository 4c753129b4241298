package io.courier.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** JSON on the command line: arguments checked before they are sent, and output written. */
final class Json {

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      // '[1, 2] 3' is not one JSON text: say so here rather than let the server refuse it
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static final Pattern UNRECOGNIZED = Pattern.compile("^Unrecognized token '([^']*)'");

  private Json() {}

  /**
   * Checks that {@code text} is the arguments of a call: one JSON array or object (or nothing,
   * for a method without parameters).
   *
   * @throws UsageException saying where the text stops being JSON, or what it is instead
   */
  static void checkArguments(String prefix, String text) throws UsageException {
    if (text.isBlank()) {
      return;
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      int line = at == null ? -1 : at.getLineNr();
      int column = at == null ? -1 : at.getColumnNr();
      String message = e.getOriginalMessage();
      Matcher token = UNRECOGNIZED.matcher(message);
      if (column > 0 && token.find()) {
        // Jackson stops after a word it does not know: point at the word's start
        column = Math.max(1, column - token.group(1).length());
      }
      String where = line < 1 ? "" : " at line " + line + ", column " + column;
      throw new UsageException(prefix + ": the arguments are not valid JSON" + where + ": "
          + message + "\n  " + text + "\n" + marker(text, line, column));
    }
    if (!node.isArray() && !node.isObject()) {
      throw new UsageException(prefix + ": the arguments are a JSON " + node.getNodeType()
          .name().toLowerCase(Locale.ROOT) + " (expected: an array of arguments such"
          + " as '[1, \"two\"]', or an object of named arguments such as '{\"a\": 1}')");
    }
  }

  /** A caret under the column where parsing stopped, for one-line arguments. */
  private static String marker(String text, int line, int column) {
    if (line != 1 || text.indexOf('\n') >= 0 || column < 1) {
      return "";
    }
    return "  " + " ".repeat(Math.min(text.length(), column - 1)) + "^";
  }

  /** {@code value} as indented JSON. */
  static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value + " as JSON", e);
    }
  }
}
