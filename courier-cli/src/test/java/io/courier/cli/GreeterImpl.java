package io.courier.cli;

import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

final class GreeterImpl implements Greeter {

  final AtomicInteger ticks = new AtomicInteger();
  final BlockingQueue<String> notes = new LinkedBlockingQueue<>();

  @Override
  public String greet(String name) {
    return "Hello, " + name;
  }

  @Override
  public int add(int a, int b) {
    return a + b;
  }

  @Override
  public List<String> repeat(String word, int times) {
    return Collections.nCopies(times, word);
  }

  @Override
  public int tick() {
    int n = ticks.incrementAndGet();
    if (n % 3 == 0) {
      throw new IllegalStateException("tick " + n + " fails");
    }
    return n;
  }

  @Override
  public void note(String text) {
    notes.add(text);
  }
}
