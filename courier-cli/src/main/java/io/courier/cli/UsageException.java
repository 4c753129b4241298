package io.courier.cli;

/**
 * The command line is wrong (an unknown command or option, a missing or malformed value): the
 * message says what is valid, and the exit status is {@link CourierCli#EXIT_USAGE}.
 */
final class UsageException extends Exception {

  UsageException(String message) {
    super(message, null, false, false);
  }
}
