;; page-hash.wat: the page fingerprint of page-hash.ts in WebAssembly SIMD
;; (scripts/build-wasm.js turns this into page-hash-wasm.ts).
;;
;; 16 lanes of 32 bits in four vectors: lane j takes words j, j + 16, ...
;; of the page; each step is lane = rotl(lane + word * 0x85ebca77, 13) * 0x9e3779b1
;; (the round of xxHash32).
;; Four independent vectors keep the multiplier busy while each product
;; waits out its latency. The lanes are then folded into two 32-bit words.
;; hashPageJs in page-hash.ts computes the same function.
(module
  ;; 5 pages of 64 KiB: a 256 KiB read buffer at 0 and the fingerprints after it.
  (memory (export "memory") 5)

  ;; hash_pages(src, pages, pageBytes, out): fingerprints `pages` pages of
  ;; `pageBytes` bytes (a multiple of 64) from `src` into two i32 per page at `out`.
  (func (export "hash_pages") (param $src i32) (param $pages i32) (param $pb i32) (param $out i32)
    (local $k i32) (local $p i32) (local $end i32) (local $x i32) (local $y i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $m v128) (local $q v128) (local $v v128)
    (local.set $m (v128.const i32x4 0x9e3779b1 0x9e3779b1 0x9e3779b1 0x9e3779b1))
    (local.set $q (v128.const i32x4 0x85ebca77 0x85ebca77 0x85ebca77 0x85ebca77))
    (block $done
      (loop $page
        (br_if $done (i32.ge_u (local.get $k) (local.get $pages)))
        (local.set $a (v128.const i32x4 0x9e3779b1 0x85ebca77 0xc2b2ae3d 0x27d4eb2f))
        (local.set $b (v128.const i32x4 0x165667b1 0xd3a2646c 0xfd7046c5 0xb55a4f09))
        (local.set $c (v128.const i32x4 0x7f4a7c15 0x94d049bb 0xbf58476d 0x1ce4e5b9))
        (local.set $d (v128.const i32x4 0x2545f491 0x9e3779b9 0x61c88647 0x3c6ef372))
        (local.set $p (local.get $src))
        (local.set $end (i32.add (local.get $src) (local.get $pb)))
        (loop $words
          ;; The input is multiplied before it joins the lane and the sum is
          ;; rotated before the second multiply: a changed bit, high or low,
          ;; ends up spread over the whole lane, so the next words cannot
          ;; cancel it.
          (local.set $v (i32x4.add (local.get $a) (i32x4.mul (v128.load offset=0 align=1 (local.get $p)) (local.get $q))))
          (local.set $a (i32x4.mul (v128.or (i32x4.shl (local.get $v) (i32.const 13)) (i32x4.shr_u (local.get $v) (i32.const 19))) (local.get $m)))
          (local.set $v (i32x4.add (local.get $b) (i32x4.mul (v128.load offset=16 align=1 (local.get $p)) (local.get $q))))
          (local.set $b (i32x4.mul (v128.or (i32x4.shl (local.get $v) (i32.const 13)) (i32x4.shr_u (local.get $v) (i32.const 19))) (local.get $m)))
          (local.set $v (i32x4.add (local.get $c) (i32x4.mul (v128.load offset=32 align=1 (local.get $p)) (local.get $q))))
          (local.set $c (i32x4.mul (v128.or (i32x4.shl (local.get $v) (i32.const 13)) (i32x4.shr_u (local.get $v) (i32.const 19))) (local.get $m)))
          (local.set $v (i32x4.add (local.get $d) (i32x4.mul (v128.load offset=48 align=1 (local.get $p)) (local.get $q))))
          (local.set $d (i32x4.mul (v128.or (i32x4.shl (local.get $v) (i32.const 13)) (i32x4.shr_u (local.get $v) (i32.const 19))) (local.get $m)))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (br_if $words (i32.lt_u (local.get $p) (local.get $end))))
        ;; Fold, each step one-to-one in each lane, so that a change in any
        ;; one lane changes both output words:
        ;;   v = a*K1 ^ rotl(b,8)*K2 ^ rotl(c,16)*K3 ^ rotl(d,24)*K4; v ^= v >>> 16
        ;;   x = v0 ^ v2*K5; y = v1 ^ v3*K6
        ;;   out0 = x + rotl(y,11)*K7; out1 = y + rotl(x,17)*K8
        (local.set $v (v128.xor
          (v128.xor
            (i32x4.mul (local.get $a) (v128.const i32x4 0x85ebca6b 0x85ebca6b 0x85ebca6b 0x85ebca6b))
            (i32x4.mul (v128.or (i32x4.shl (local.get $b) (i32.const 8)) (i32x4.shr_u (local.get $b) (i32.const 24)))
                       (v128.const i32x4 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35)))
          (v128.xor
            (i32x4.mul (v128.or (i32x4.shl (local.get $c) (i32.const 16)) (i32x4.shr_u (local.get $c) (i32.const 16)))
                       (v128.const i32x4 0x27d4eb2f 0x27d4eb2f 0x27d4eb2f 0x27d4eb2f))
            (i32x4.mul (v128.or (i32x4.shl (local.get $d) (i32.const 24)) (i32x4.shr_u (local.get $d) (i32.const 8)))
                       (v128.const i32x4 0x165667b1 0x165667b1 0x165667b1 0x165667b1)))))
        (local.set $v (v128.xor (local.get $v) (i32x4.shr_u (local.get $v) (i32.const 16))))
        (local.set $x (i32.xor (i32x4.extract_lane 0 (local.get $v))
                               (i32.mul (i32x4.extract_lane 2 (local.get $v)) (i32.const 0xd3a2646d))))
        (local.set $y (i32.xor (i32x4.extract_lane 1 (local.get $v))
                               (i32.mul (i32x4.extract_lane 3 (local.get $v)) (i32.const 0xfd7046c5))))
        (i32.store offset=0 (local.get $out)
          (i32.add (local.get $x) (i32.mul (i32.rotl (local.get $y) (i32.const 11)) (i32.const 0xb55a4f09))))
        (i32.store offset=4 (local.get $out)
          (i32.add (local.get $y) (i32.mul (i32.rotl (local.get $x) (i32.const 17)) (i32.const 0x7f4a7c15))))
        (local.set $src (local.get $end))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $page)))))
