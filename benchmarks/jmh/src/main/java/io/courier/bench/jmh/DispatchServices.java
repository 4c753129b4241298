package io.courier.bench.jmh;

import java.util.List;
import java.util.Map;

/**
 * Service interfaces for the dispatch benchmark: one of 10 methods, and ten services of 20
 * methods each (200 call IDs in all, as a server hosting ten services would have).
 */
public final class DispatchServices {

  private DispatchServices() {}

  /** Ten methods of assorted signatures. */
  public interface Ten {
    int get(double a, int b);

    long put(boolean a, int b);

    String remove(byte[] a, int b);

    double list(List<String> a, int b);

    boolean count(Map<String, Long> a, int b);

    byte[] find(Integer a, int b);

    List<String> update(Object a, int b);

    Map<String, Long> create(int a, int b);

    Integer touch(long a, int b);

    Object ping(String a, int b);
  }

  /** Twenty methods: {@link Ten}'s and ten more. */
  public interface Twenty extends Ten {
    byte[] stats(Integer a, int b);

    List<String> lookup(Object a, int b);

    Map<String, Long> resolve(int a, int b);

    Integer reserve(long a, int b);

    Object release(String a, int b);

    int cancel(double a, int b);

    long confirm(boolean a, int b);

    String refund(byte[] a, int b);

    double audit(List<String> a, int b);

    boolean close(Map<String, Long> a, int b);
  }

  /** Service 0 of ten with the same 20 methods under its own name. */
  public interface Service0 extends Twenty {}

  /** Service 1 of ten with the same 20 methods under its own name. */
  public interface Service1 extends Twenty {}

  /** Service 2 of ten with the same 20 methods under its own name. */
  public interface Service2 extends Twenty {}

  /** Service 3 of ten with the same 20 methods under its own name. */
  public interface Service3 extends Twenty {}

  /** Service 4 of ten with the same 20 methods under its own name. */
  public interface Service4 extends Twenty {}

  /** Service 5 of ten with the same 20 methods under its own name. */
  public interface Service5 extends Twenty {}

  /** Service 6 of ten with the same 20 methods under its own name. */
  public interface Service6 extends Twenty {}

  /** Service 7 of ten with the same 20 methods under its own name. */
  public interface Service7 extends Twenty {}

  /** Service 8 of ten with the same 20 methods under its own name. */
  public interface Service8 extends Twenty {}

  /** Service 9 of ten with the same 20 methods under its own name. */
  public interface Service9 extends Twenty {}

  /** The ten services of 20 methods. */
  public static final Class<?>[] TWENTY_EACH = {
    Service0.class, Service1.class, Service2.class, Service3.class, Service4.class,
    Service5.class, Service6.class, Service7.class, Service8.class, Service9.class
  };
}
