package io.courier.demo;

import java.time.LocalDate;
import java.time.Period;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** The provider's implementation. */
public final class GreeterImpl implements Greeter {

  private final AtomicInteger audited = new AtomicInteger();
  private final String name;

  public GreeterImpl(String name) {
    this.name = name;
  }

  @Override
  public String node() {
    return name;
  }

  @Override
  public String greet(String name) {
    return "Hello, " + name + "!";
  }

  @Override
  public CompletableFuture<Greeting> greetAsync(Person person) {
    int age = Period.between(person.born(), LocalDate.now()).getYears();
    return CompletableFuture.completedFuture(new Greeting("Welcome, " + person.name(), age));
  }

  @Override
  public void audit(String event) {
    audited.incrementAndGet();
  }

  @Override
  public int audited() {
    return audited.get();
  }

  @Override
  public int divide(int a, int b) throws DemoException {
    if (b == 0) {
      throw new DemoException("cannot divide " + a + " by zero");
    }
    return a / b;
  }

  @Override
  public String explode(String why) {
    throw new IllegalStateException(why);
  }

  @Override
  public String slow(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "done after " + millis + " ms";
  }
}
