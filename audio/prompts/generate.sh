#!/bin/sh
# generate.sh rebuilds the embedded voicemail prompts from fr.txt and en.txt.
#
# Every prompt is spoken by espeak-ng, then sox turns it into telephone audio:
# 8000 Hz, mono, 16-bit signed PCM WAV, peak-normalised to -3 dBFS. Sentences
# have their leading and trailing silence trimmed, then get PAD of silence at
# each end, so prompts can be chained without gaps or clipped starts. Digits and
# "dash" get only DIGIT_PAD: Prompts.Number adds its own pause between them;
# the words of dates and times (reopens, weekday_N, day_N, month_N, hour_N,
# today, tomorrow) WORD_PAD. The beep is a 400 ms 1000 Hz tone made by sox,
# without padding (recording starts right after it).
#
# sox runs with -D (no dither), so silence is true zero and the output is the
# same from one run to the next for a given espeak-ng and sox.
#
# Usage: audio/prompts/generate.sh   (from anywhere; needs espeak-ng and sox)
set -eu

cd "$(dirname "$0")"

RATE=165       # words per minute for the caller's prompts; espeak-ng's default is 175
PAGE_RATE=150  # for the technicians' (page_*) and the digits: slower, spelled out
PAD=0.15       # seconds of silence around sentences
DIGIT_PAD=0.02 # seconds of silence around digits and "dash"
WORD_PAD=0.06  # around the words of a date ("jeudi", "3", "décembre"), chained
TRIM=-55d      # level below which leading/trailing audio counts as silence

command -v espeak-ng >/dev/null || { echo "generate.sh: espeak-ng not found" >&2; exit 1; }
command -v sox >/dev/null || { echo "generate.sh: sox not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for lang in fr en; do
	rm -rf "$lang"
	mkdir -p "$lang"
	# name<TAB>text lines; '#' starts a comment line.
	grep -v '^#' "$lang.txt" | grep -v '^[[:space:]]*$' | while IFS='	' read -r name text; do
		rate=$RATE
		case "$name" in
		page_* | digit_* | dash) rate=$PAGE_RATE ;;
		esac
		case "$name" in
		digit_* | dash) pad=$DIGIT_PAD ;;
		weekday_* | month_* | day_* | hour_* | today | tomorrow | reopens) pad=$WORD_PAD ;;
		*) pad=$PAD ;;
		esac
		espeak-ng -v "$lang" -s "$rate" -w "$tmp/raw.wav" "$text"
		sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$lang/$name.wav" \
			silence 1 0.01 "$TRIM" reverse silence 1 0.01 "$TRIM" reverse \
			rate -v 8000 norm -3 pad "$pad" "$pad"
	done
	sox -D -n -r 8000 -c 1 -b 16 -e signed-integer "$lang/beep.wav" \
		synth 0.4 sine 1000 fade h 0.005 0.4 0.005 norm -3
done

du -ch fr/*.wav en/*.wav | tail -n 1
