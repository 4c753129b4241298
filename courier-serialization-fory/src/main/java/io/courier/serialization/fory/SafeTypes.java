package io.courier.serialization.fory;

import java.util.Set;

/**
 * JDK classes a payload may always name: value types, standard collections and maps, and
 * {@code java.time}. Nothing here runs code when created or filled (no classes with custom
 * deserialization hooks that reach other objects' methods).
 */
final class SafeTypes {

  private SafeTypes() {}

  private static final Set<String> EXACT = Set.of(
      "java.lang.String", "java.lang.Boolean", "java.lang.Byte", "java.lang.Short",
      "java.lang.Character", "java.lang.Integer", "java.lang.Long", "java.lang.Float",
      "java.lang.Double", "java.lang.Void", "java.lang.Object",
      "java.math.BigInteger", "java.math.BigDecimal", "java.util.UUID",
      "java.util.Optional", "java.util.OptionalInt", "java.util.OptionalLong",
      "java.util.OptionalDouble", "java.util.Date", "java.util.Locale", "java.util.Currency",
      "java.util.BitSet", "java.net.URI",
      "java.util.ArrayList", "java.util.LinkedList", "java.util.ArrayDeque",
      "java.util.HashMap", "java.util.LinkedHashMap", "java.util.TreeMap",
      "java.util.HashSet", "java.util.LinkedHashSet", "java.util.TreeSet",
      "java.util.EnumMap", "java.util.EnumSet", "java.util.RegularEnumSet",
      "java.util.JumboEnumSet", "java.util.Arrays$ArrayList",
      "java.util.concurrent.ConcurrentHashMap", "java.util.concurrent.ConcurrentSkipListMap",
      "java.util.concurrent.ConcurrentSkipListSet", "java.util.concurrent.CopyOnWriteArrayList",
      // interfaces and abstract types, which Fory names for declared field types; they cannot
      // be instantiated, so naming them creates nothing
      "java.util.Collection", "java.util.List", "java.util.Set", "java.util.SortedSet",
      "java.util.NavigableSet", "java.util.Queue", "java.util.Deque", "java.util.Map",
      "java.util.SortedMap", "java.util.NavigableMap", "java.lang.Number",
      "java.lang.CharSequence", "java.lang.Comparable", "java.lang.Iterable",
      "java.io.Serializable");

  private static final String[] PREFIXES = {
      "java.time.", "java.util.ImmutableCollections$", "java.util.Collections$Empty",
      "java.util.Collections$Singleton", "java.util.Collections$Unmodifiable",
      "java.util.Collections$Synchronized"};

  /** Whether a JDK class name (or an array of one) is always allowed. */
  static boolean isSafe(String className) {
    String n = className;
    while (n.startsWith("[")) {
      n = n.substring(1);
    }
    if (n.length() == 1) {
      return "ZBCSIJFD".indexOf(n.charAt(0)) >= 0; // primitive array
    }
    if (n.startsWith("L") && n.endsWith(";")) {
      n = n.substring(1, n.length() - 1);
    }
    if (EXACT.contains(n)) {
      return true;
    }
    for (String p : PREFIXES) {
      if (n.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  /** The element class name of an array class name, or the name itself. */
  static String elementName(String className) {
    String n = className;
    while (n.startsWith("[")) {
      n = n.substring(1);
    }
    if (n.startsWith("L") && n.endsWith(";")) {
      n = n.substring(1, n.length() - 1);
    }
    return n;
  }
}
