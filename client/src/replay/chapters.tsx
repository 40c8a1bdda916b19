import type { Replay, ReplayChapter } from "../../../protocol/index.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import { offsetS, offsetText } from "./timeline.ts";

/** Chapters of a selling format other than a timed drop say which. */
const KIND_LABEL: Record<string, MessageKey> = {
  auction: "reports.format.auction",
  giveaway: "reports.format.giveaway",
  buy_now: "reports.format.buy_now",
};

/** The replay's moments as a list; pressing one jumps the video there. */
export function Chapters({
  replay,
  chapters,
  current,
  onSeek,
}: {
  replay: Replay;
  chapters: readonly ReplayChapter[];
  /** The chapter playing now (the last one started), highlighted. */
  current: ReplayChapter | undefined;
  onSeek: (offsetS: number) => void;
}) {
  const t = useI18n();
  return (
    <nav class="replay-chapters" aria-label={t("replay.chapters")}>
      <h2 class="replay-heading">{t("replay.chapters")}</h2>
      {chapters.length === 0 ? <p class="muted">{t("replay.noChapters")}</p> : null}
      <ol>
        {chapters.map((c) => (
          <li key={`${c.kind}-${c.at}-${c.dropId ?? ""}`}>
            <button
              type="button"
              class={`btn btn-quiet chapter ${c === current ? "on" : ""}`}
              aria-current={c === current ? "true" : undefined}
              data-testid="chapter"
              data-drop-id={c.dropId ?? ""}
              onClick={() => onSeek(offsetS(replay, c.at))}
            >
              <span class="chapter-at">{offsetText(offsetS(replay, c.at))}</span>{" "}
              <span class="chapter-title">{c.title}</span>
              {KIND_LABEL[c.kind] ? (
                <span class="chapter-kind" data-testid="chapter-kind">
                  {" "}
                  · {t(KIND_LABEL[c.kind] as MessageKey)}
                </span>
              ) : null}
            </button>
          </li>
        ))}
      </ol>
    </nav>
  );
}
