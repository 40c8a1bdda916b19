/**
 * The one rule for human text that other people see (chat, display names, product titles): no
 * C0/C1 control characters (newline and tab included) and no lone surrogates, which would let
 * one line pose as several or break a JSON consumer downstream.
 */
export const NO_CONTROL_CHARS = /^[^\p{Cc}\p{Cs}]*$/u;
export const NO_CONTROL_CHARS_MESSAGE = "no control characters";
